#!/usr/bin/env bash
# rlm_lscgate policy on a real FreeRADIUS: reply attributes for accepted phones
# (802.1X and VPN), a bare MIC refused by default and put in the enrolment VLAN
# under "restrict", revocation through `lscgate revoke` taking effect at once,
# and a HUP after a CAPF rotation: LSCs of the old CAPF keep working while both
# are trusted, LSCs of the new CAPF are accepted once the module has re-read them.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/mic_pki.sh"
source "$(dirname "$0")/radius_lib.sh"
require_radius_prerequisites

CAPF_DIR=$WORK/capf
DB=$CAPF_DIR/lscgate.db
A=SEP00000000AA01
B=SEP00000000AA02
M=SEP00000000AA03
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }

"$LSCGATE" init --dir "$CAPF_DIR" >/dev/null
make_mic_pki "$WORK/mic" "$M"
adm device add "$A" "$B" "$M" >/dev/null
adm op install "$A" --key ec:p256 >/dev/null 2>&1
start_capf "$CAPF_DIR"
expect_rc 0 "phone A enrols" -- phone "$A"

cat >"$WORK/policy.toml" <<'EOP'
[actions]
lsc-valid = "accept"
mic = "restrict"
[accept]
vlan = 110
cisco_avpair = ["device-traffic-class=voice"]
[restrict]
vlan = 999
filter_id = "ENROLL-ONLY"
EOP
start_lab "$WORK/lab" "$CAPF_DIR" --policy "$WORK/policy.toml" --mic-roots "$WORK/mic/mfg-ca.pem" \
    --last-seen "$WORK/seen/last-seen.db"
expect_contains "$(cat "$LOG")" "policy $WORK/lab/policy.toml" "the module loaded the policy file"

# ---- 802.1X: LSC accepted with the voice VLAN ---------------------------------------
eapol_conf a "$A" "$WORK/phones/$A.lsc.pem" "$WORK/phones/$A.lsc.key"
eapol_conf m "$M" "$WORK/mic/$M.mic.pem" "$WORK/mic/$M.mic.key"
expect_rc 0 "EAP-TLS with A's LSC succeeds" -- eapol a
expect_contains "$OUT" "CTRL-EVENT-EAP-SUCCESS" "EAP success"
expect_contains "$OUT" "Attribute 81 (Tunnel-Private-Group-Id) length=5" "Access-Accept carries a VLAN (Tunnel-Private-Group-Id)"
expect_contains "$OUT" "Attribute 64 (Tunnel-Type)" "and Tunnel-Type"
expect_contains "$OUT" "Attribute 65 (Tunnel-Medium-Type)" "and Tunnel-Medium-Type"

# ---- a bare MIC: restricted to the enrolment VLAN under this policy ------------------
expect_rc 0 "EAP-TLS with a MIC is admitted under 'restrict'" -- eapol m
expect_contains "$OUT" "CTRL-EVENT-EAP-SUCCESS" "EAP success for the MIC"
expect_contains "$OUT" "Attribute 81 (Tunnel-Private-Group-Id)" "restricted reply carries a VLAN"

# ---- VPN: reply attributes --------------------------------------------------------------
expect_rc 0 "VPN request for A is accepted" -- vpn "$A"
expect_contains "$OUT" "Received Access-Accept" "Access-Accept"
expect_contains "$OUT" 'Tunnel-Private-Group-Id:0 = "110"' "with the voice VLAN"
expect_contains "$OUT" 'Cisco-AVPair = "device-traffic-class=voice"' "and Cisco-AVPair device-traffic-class=voice"
expect_failure "a login with A's name and a password is refused (authorization only)" -- vpn_with_password "$A" anything
expect_contains "$OUT" "Received Access-Reject" "Access-Reject for a password request"
expect_failure "VPN request for B (no LSC) is rejected" -- vpn "$B"
expect_contains "$OUT" "Received Access-Reject" "Access-Reject for B"
expect_not_contains "$OUT" "Tunnel-Private-Group-Id" "and no VLAN in the reject"

# ---- revoke with the CLI: the next authentication fails, no restart --------------------
expect_rc 0 "lscgate revoke A" -- adm revoke "$A" --reason key-compromise
expect_failure "EAP-TLS with the revoked LSC fails" -- eapol a
expect_contains "$OUT" "EAP-Failure" "EAP-Failure after revocation"
expect_failure "VPN request for the revoked device is rejected" -- vpn "$A"
expect_eq "$(kill -0 "$FR_PID" && echo running)" running "same FreeRADIUS process"

# ---- the MIC under the default policy: refused -----------------------------------------
stop_lab "$WORK/lab"
start_lab "$WORK/lab2" "$CAPF_DIR" --mic-roots "$WORK/mic/mfg-ca.pem" --trust-refresh 0
eapol_conf m "$M" "$WORK/mic/$M.mic.pem" "$WORK/mic/$M.mic.key"
expect_failure "EAP-TLS with a MIC fails under the default policy" -- eapol m
expect_contains "$OUT" "EAP-Failure" "EAP-Failure for the MIC"
expect_contains "$(cat "$LOG")" "reject [mic] $M" "log: class mic, device named"

# ---- CAPF rotation and HUP ------------------------------------------------------------------
adm op install "$A" --key ec:p256 >/dev/null 2>&1
expect_rc 0 "A gets a new LSC from the first CAPF" -- phone "$A"
eapol_conf a "$A" "$WORK/phones/$A.lsc.pem" "$WORK/phones/$A.lsc.key"
expect_rc 0 "EAP-TLS with A's LSC succeeds" -- eapol a
stop_capf
expect_rc 0 "rotate the CAPF (init --force)" -- "$LSCGATE" init --dir "$CAPF_DIR" --force
expect_eq "$(sql "$DB" "SELECT group_concat(status) FROM capf_certificates ORDER BY id")" "previous,current" "old CAPF kept as previous"
start_capf "$CAPF_DIR"
adm op install "$B" --key ec:p256 >/dev/null 2>&1
expect_rc 0 "phone B enrols under the new CAPF" -- phone "$B"
expect_failure "before HUP: B's LSC (new CAPF) is not trusted yet" -- vpn "$B"
expect_contains "$(cat "$LOG")" "reject [lsc-foreign] $B" "log: lsc-foreign for the unknown CAPF"
# radius-lab hup returns once the log shows rlm_lscgate rebuilt (it re-sends the
# HUP that FreeRADIUS ignores within 2 s of a (re)load).
expect_rc 0 "radius-lab hup" -- "$RADIUS_LAB" hup "$WORK/lab2"
expect_contains "$(cat "$LOG")" "HUP - loading modules" "FreeRADIUS reloaded the modules"
expect_contains "$(cat "$LOG")" 'Reloaded module "lscgate"' "rlm_lscgate was rebuilt"
expect_rc 0 "after HUP: B (new CAPF) is accepted" -- vpn "$B"
expect_rc 0 "after HUP: A (old CAPF) is still accepted over VPN" -- vpn "$A"
expect_rc 0 "after HUP: A's LSC from the old CAPF still passes EAP-TLS" -- eapol a
expect_eq "$(kill -0 "$FR_PID" && echo running)" running "same FreeRADIUS process after HUP"
stop_lab "$WORK/lab2"
stop_capf

# ---- last seen ------------------------------------------------------------------------------
seen=$(sqlite3 -readonly "$WORK/seen/last-seen.db" "SELECT device || ':' || class FROM last_seen ORDER BY device")
expect_contains "$seen" "$A:" "last-seen has phone A"
expect_contains "$seen" "$M:mic" "last-seen records the MIC"

finish
