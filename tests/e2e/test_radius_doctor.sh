#!/usr/bin/env bash
# lscgate doctor --device on the RADIUS side (issue 11): a phone that holds an
# active LSC but authenticates 802.1X with its MIC, on a real FreeRADIUS 3.2.1 with
# rlm_lscgate and eapol_test. The module's last-seen records class mic; doctor
# names it (device.seen-mic: the switch port in the MIC VLAN, the phone does not
# use its LSC for 802.1X), read from the node's last-seen file (--last-seen) and
# from the raddb's module configuration (--raddb); once the phone presents its
# LSC, doctor is content. And the phone's recent CAPF operations with their causes.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/mic_pki.sh"
source "$(dirname "$0")/radius_lib.sh"
require_radius_prerequisites

CAPF_DIR=$WORK/capf
A=SEP00000000DD01
SEEN=$WORK/seen/last-seen.db
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }
jv() { python3 -c 'import json,sys; d=json.load(sys.stdin); v=eval(sys.argv[1]); print(str(v).lower() if isinstance(v,bool) else v)' "$1"; }
finding() { jv "next((f['severity']+'|'+f['symptom']+'|'+f['cause'] for f in d['findings'] if f['check']=='$1'), 'none')" <<<"$OUT"; }
expect_finding() {  # CHECK SEVERITY WORDS ROW: WORDS in the symptom or the cause
    local got
    got=$(finding "$1")
    if [ "${got%%|*}" = "$2" ] && grep -qF -- "$3" <<<"$got"; then pass "$4: $1 ($2) \"$3\""
    else failed "$4: expected $1 $2 with '$3', got '$got'"; echo "$OUT" | sed -n '1,40s/^/    | /p'; fi
}
# seen_class CLASS: the node's last-seen file holds A with that class (the writer flushes every second).
seen_class() { [ "$(sqlite3 -readonly "$SEEN" "SELECT class FROM last_seen WHERE device='$A'" 2>/dev/null)" = "$1" ]; }

"$LSCGATE" init --dir "$CAPF_DIR" >/dev/null
make_mic_pki "$WORK/mic" "$A"
adm device add "$A" >/dev/null
adm op install "$A" --key ec:p256 >/dev/null 2>&1
start_capf "$CAPF_DIR"
expect_rc 0 "phone A enrols: it holds an active LSC" -- phone "$A"
# A second operation whose session fails: the phone answers with another key than asked.
adm op install "$A" --key ec:p256 >/dev/null 2>&1
expect_failure "A's next session fails: the phone returns rsa:1024 for ec:p256" -- phone "$A" --fault wrong-key
stop_capf

cat >"$WORK/policy.toml" <<'EOP'
[actions]
lsc-valid = "accept"
mic = "restrict"
[restrict]
vlan = 999
EOP
start_lab "$WORK/lab" "$CAPF_DIR" --policy "$WORK/policy.toml" --mic-roots "$WORK/mic/mfg-ca.pem" --last-seen "$SEEN" \
    --reject-delay 0

# ---- the phone authenticates with its MIC although it holds an LSC -----------------------
eapol_conf mic "$A" "$WORK/mic/$A.mic.pem" "$WORK/mic/$A.mic.key"
expect_rc 0 "802.1X with A's MIC: accepted into the restricted VLAN" -- eapol mic
expect_contains "$OUT" "Attribute 81 (Tunnel-Private-Group-Id)" "the reply names the MIC VLAN"
wait_until 30 "last-seen records A with class mic" -- seen_class mic

OUT=$(adm doctor --json --no-serve --device "$A" --last-seen "$SEEN") && rc=0 || rc=$?
expect_eq "$rc" 2 "doctor --device --last-seen exits 2"
expect_finding device.seen-mic fail "MIC/guest VLAN" "row: LSC held, MIC presented over 802.1X (--last-seen)"
expect_finding device.seen-mic fail "the phone does not use its LSC for 802.1X" "doctor names the cause"
expect_finding device.seen-mic fail "NAS 127.0.0.1" "and where RADIUS saw it"
OUT=$(adm doctor --json --no-serve --device "$A" --raddb "$RADDB") && rc=0 || rc=$?
expect_finding device.seen-mic fail "presenting class mic" "row: the same, the last-seen file found through the raddb's lscgate module"
OUT=$(adm doctor --no-serve --device "$A" --last-seen "$SEEN") || true
expect_contains "$OUT" "fix:     make the phone present its LSC" "text output gives the fix"

# ---- recent operations with their causes ----------------------------------------------------
OUT=$(adm doctor --json --no-serve --device "$A" --last-seen "$SEEN") || true
expect_finding device.last-session warn "the operation stays pending" "row: the last CAPF session failed"
expect_finding device.last-session warn "phone returned rsa:1024 but ec:p256 was requested" "with its cause"
expect_finding device.last-session warn "(install, auth null) succeeded" "and the earlier successful enrolment"
# The phone tries again and succeeds (a new LSC; the first one is superseded).
start_capf "$CAPF_DIR"
expect_rc 0 "A's next session succeeds" -- phone "$A"
stop_capf
OUT=$(adm doctor --json --no-serve --device "$A" --last-seen "$SEEN") || true
expect_finding device.sessions ok "operation 2 (install, auth null) succeeded" "row: last session succeeded, listed with the others"

# ---- the phone presents its LSC: nothing wrong on the RADIUS side -----------------------------
eapol_conf lsc "$A" "$WORK/phones/$A.lsc.pem" "$WORK/phones/$A.lsc.key"
expect_rc 0 "802.1X with A's LSC: accepted" -- eapol lsc
wait_until 30 "last-seen records A with class lsc-valid" -- seen_class lsc-valid
OUT=$(adm doctor --json --no-serve --device "$A" --last-seen "$SEEN") || true
expect_finding device.seen ok "presenting class lsc-valid" "row: LSC presented, doctor content"
expect_eq "$(finding device.seen-mic)" none "no device.seen-mic any more"
# The lab's raddb is wired as README says (its ca_path is an empty directory, which trusts nothing).
OUT=$(adm doctor --json --no-serve --device "$A" --raddb "$RADDB") && rc=0 || rc=$?
expect_eq "$rc" 0 "doctor --device --raddb on the lab with the phone on its LSC: nothing wrong (exit 0)"
expect_eq "$(finding raddb.ca-path)" none "an empty ca_path directory is not flagged"

stop_lab "$WORK/lab"
finish
