#!/usr/bin/env bash
# Change of Authorization on revoke (issue 12 item 2), end to end, with a real
# FreeRADIUS playing the switch:
# - six phones enrolled through lscgate serve + lscgate phone authenticate over
#   EAP-TLS (eapol_test) through the lab's FreeRADIUS with rlm_lscgate, each as a
#   Cisco switch forwards it: NAS-IP-Address, Calling-Station-Id (the MAC) and a
#   Cisco-AVPair "audit-session-id=…"; last-seen records the session;
# - a second FreeRADIUS on loopback is the switch's CoA side (`aaa server radius
#   dynamic-author`): a coa listener that logs every request it gets (linelog)
#   and answers ACK, but NAK with Error-Cause 503 for one MAC;
# - lscgate revoke A --disconnect: the switch logs a CoA-Request with A's MAC,
#   audit-session-id and subscriber:command=reauthenticate and ACKs; the command
#   prints ACK and exits 0;
# - B (the MAC the switch NAKs): NAK (Error-Cause 503 Session-Context-Not-Found),
#   exit 4, the revocation committed all the same;
# - C (seen through NAS 127.0.0.2, where nothing listens): timeout after the
#   configured 2 tries, exit 4;
# - D with [coa] on_revoke = true and no flag, --coa-mode disconnect --json: a
#   Disconnect-Request, Disconnect-ACK, the JSON result; F with --no-disconnect:
#   no CoA at all;
# - E with a secrets file others may read: refused with the chmod fix, nothing
#   sent, exit 4, revocation committed;
# - the shared secret never appears in any output or log.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/radius_lib.sh"
require_radius_prerequisites

CAPF_DIR=$WORK/capf
DB=$CAPF_DIR/lscgate.db
SEEN=$WORK/seen/last-seen.db
COA_SECRET=coa-s3cret-$RANDOM$RANDOM
A=SEP00000000C0A1
B=SEP00000000C0B2
C=SEP00000000C0C3
D=SEP00000000C0D4
E=SEP00000000C0E5
F=SEP00000000C0F6
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }
mac_of() { printf '00-11-22-33-%s-%s' "${1:11:2}" "${1:13:2}"; }   # SEP…C0A1 -> 00-11-22-33-C0-A1
audit_of() { printf '7F00000100000%s%s' "${1:11:4}" "ABCDEF"; }    # a Cisco-style audit session id per phone

# ---- enrol six phones: lscgate serve + lscgate phone --------------------------------------
"$LSCGATE" init --dir "$CAPF_DIR" >/dev/null
for p in $A $B $C $D $E $F; do
    adm device add "$p" --model CP-8841 >/dev/null
    adm op install "$p" --auth null >/dev/null 2>&1
done
start_capf "$CAPF_DIR"
for p in $A $B $C $D $E $F; do expect_rc 0 "phone $p enrols through lscgate serve" -- phone "$p"; done
stop_capf

# ---- 802.1X through the lab, as a Cisco switch forwards it ----------------------------------
start_lab "$WORK/lab" "$CAPF_DIR" --last-seen "$SEEN" --reject-delay 0
# cisco_avpair_hex TEXT: a Vendor-Specific value (vendor 9, Cisco-AVPair = type 1) for eapol_test -N26:x:
cisco_avpair_hex() { python3 -c 'import sys; v=sys.argv[1].encode(); print((b"\0\0\0\x09\x01"+bytes([len(v)+2])+v).hex())' "$1"; }
# auth_from_switch NAME NAS-HEX: EAP-TLS with the phone's LSC; NAS-IP-Address, Calling-Station-Id
# and the audit session id as the switch sends them (eapol_test -N replaces its own values).
auth_from_switch() {
    eapol_conf "$1" "$1" "$WORK/phones/$1.lsc.pem" "$WORK/phones/$1.lsc.key"
    eapol_test -c "$WORK/eapol-$1.conf" -a 127.0.0.1 -p "$EAP_PORT" -s "$SECRET" -t 15 -N "4:x:$2" \
        -N "31:s:$(mac_of "$1")" -N "26:x:$(cisco_avpair_hex "audit-session-id=$(audit_of "$1")")"
}
for p in $A $B $D $E; do
    expect_rc 0 "EAP-TLS of $p through NAS 127.0.0.1" -- auth_from_switch "$p" 7f000001
    expect_contains "$OUT" "CTRL-EVENT-EAP-SUCCESS" "EAP success for $p"
done
expect_rc 0 "EAP-TLS of $C through NAS 127.0.0.2 (no CoA listener there)" -- auth_from_switch "$C" 7f000002
stop_lab "$WORK/lab"   # writes what last-seen still holds in memory
seen_row() { sqlite3 -readonly "$SEEN" "SELECT class || '|' || nas || '|' || calling_station_id || '|' || audit_session_id FROM last_seen WHERE device = '$1'"; }
expect_eq "$(seen_row "$A")" "lsc-valid|127.0.0.1|$(mac_of "$A")|$(audit_of "$A")" \
    "last-seen holds A's session: NAS, Calling-Station-Id, audit-session-id"
expect_eq "$(seen_row "$C")" "lsc-valid|127.0.0.2|$(mac_of "$C")|$(audit_of "$C")" "last-seen holds C's session through 127.0.0.2"

# ---- the switch: a second FreeRADIUS with a CoA listener --------------------------------------
SW=$WORK/switch
# A UDP port free on 127.0.0.1 now (lib.sh's free_port asks TCP).
SW_PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SW_LOG=$SW/log/switch.log
# build_switch: Debian's raddb with only a coa listener on 127.0.0.1:SW_PORT (what `aaa server radius
# dynamic-author` opens on a Cisco switch), one client (lscgate on 127.0.0.1, COA_SECRET), every request
# logged and ACKed; B's MAC gets a NAK with Error-Cause Session-Context-Not-Found (503).
build_switch() {
    local R=$SW/raddb
    mkdir -p "$SW" && chmod 755 "$SW"
    cp -a /etc/freeradius/3.0 "$R"
    mkdir -p "$SW/log" "$SW/run" && chown freerad:freerad "$SW/log" "$SW/run"
    sed -i -e "s|^raddbdir = .*|raddbdir = $R|" -e "s|^logdir = .*|logdir = $SW/log|" \
        -e "s|^run_dir = .*|run_dir = $SW/run|" -e "s|^proxy_requests[[:space:]]*=.*|proxy_requests = no|" "$R/radiusd.conf"
    rm -f "$R"/sites-enabled/* "$R/mods-enabled/eap"
    printf 'client lscgate {\n\tipaddr = 127.0.0.1\n\tsecret = %s\n}\n' "$COA_SECRET" >"$R/clients.conf"
    cat >"$R/mods-available/switch_log" <<EOF
linelog switch_log {
	filename = $SW_LOG
	permissions = 0644
	format = "%{Packet-Type} nas=%{NAS-IP-Address} cs=%{Calling-Station-Id} avpair=%{Cisco-AVPair[*]} acct=%{Acct-Session-Id}"
}
EOF
    ln -s ../mods-available/switch_log "$R/mods-enabled/switch_log"
    cat >"$R/sites-available/switch" <<EOF
server switch {
	listen {
		type = coa
		ipaddr = 127.0.0.1
		port = $SW_PORT
	}
	recv-coa {
		switch_log
		if (&Calling-Station-Id == "$(mac_of "$B")") {
			update reply {
				&Error-Cause := Session-Context-Not-Found
			}
			reject
		}
		ok
	}
	send-coa {
		ok
	}
}
EOF
    ln -s ../sites-available/switch "$R/sites-enabled/switch"
    chown -R freerad:freerad "$R"
}
build_switch
freeradius -f -l stdout -d "$SW/raddb" </dev/null >"$SW/freeradius.log" 2>&1 &
SW_PID=$!
E2E_PIDS+=("$SW_PID")
if ! wait_log "$SW/freeradius.log" "Ready to process requests"; then
    tail -30 "$SW/freeradius.log" | sed 's/^/    | /'
    finish
    exit 1
fi
listeners=$(ss -H -lnup 2>/dev/null | grep "pid=$SW_PID," | awk '{print $4}' | sort -u | tr '\n' ' ' || true)
expect_eq "$listeners" "127.0.0.1:$SW_PORT " "the switch listens for CoA on 127.0.0.1:$SW_PORT only"

# ---- lscgate's [coa]: the switch's port, fast retries, the secrets file ------------------------
printf '# NAS-ADDRESS SECRET [PORT]\n127.0.0.1 %s\n127.0.0.2 %s\n' "$COA_SECRET" "$COA_SECRET" >"$CAPF_DIR/coa-secrets"
chmod 600 "$CAPF_DIR/coa-secrets"
sed -i -e "s|^port = .*|port = $SW_PORT|" -e "s|^timeout = .*|timeout = 1|" -e "s|^retries = .*|retries = 1|" \
    -e "s|^last_seen = .*|last_seen = \"$SEEN\"|" "$CAPF_DIR/lscgate.toml"
status_of() { sql "$DB" "SELECT status FROM certificates WHERE device_name = '$1' AND kind = 'lsc'"; }
ALL_OUTPUT=""

# ---- A: CoA-Request, the switch ACKs ---------------------------------------------------------
expect_rc 0 "revoke A --disconnect: every NAS ACKed" -- adm revoke "$A" --disconnect
ALL_OUTPUT+=$OUT
expect_contains "$OUT" "coa $A nas=127.0.0.1:$SW_PORT ACK" "the command prints ACK for the switch"
expect_eq "$(status_of "$A")" revoked "A's LSC is revoked"
wait_log "$SW_LOG" "cs=$(mac_of "$A")"
line=$(grep -F "cs=$(mac_of "$A")" "$SW_LOG" || true)
expect_contains "$line" "CoA-Request nas=127.0.0.1 cs=$(mac_of "$A")" "the switch got a CoA-Request with A's Calling-Station-Id"
expect_contains "$line" "audit-session-id=$(audit_of "$A")" "and A's audit-session-id"
expect_contains "$line" "subscriber:command=reauthenticate" "and the Cisco reauthenticate command"
expect_eq "$(grep -cF "cs=$(mac_of "$A")" "$SW_LOG")" 1 "one request for A (an ACK needs no retransmission)"

# ---- B: the switch NAKs with Error-Cause 503 ----------------------------------------------------
expect_rc 4 "revoke B --disconnect: the switch NAKs, exit 4" -- adm revoke "$B" --disconnect
ALL_OUTPUT+=$OUT
expect_contains "$OUT" "coa $B nas=127.0.0.1:$SW_PORT NAK (Error-Cause 503 Session-Context-Not-Found)" \
    "the command prints the NAK and its Error-Cause"
expect_contains "$OUT" "the revocation of $B is committed" "and says the revocation stands"
expect_eq "$(status_of "$B")" revoked "B's LSC is revoked all the same"
expect_contains "$(cat "$SW_LOG")" "CoA-Request nas=127.0.0.1 cs=$(mac_of "$B")" "the switch logged B's request"

# ---- C: nothing listens at 127.0.0.2: timeout after 1 + retries tries ---------------------------
expect_rc 4 "revoke C --disconnect: no answer, exit 4" -- adm revoke "$C" --disconnect
ALL_OUTPUT+=$OUT
expect_contains "$OUT" "coa $C nas=127.0.0.2:$SW_PORT timeout after 2 tries" "the command prints the timeout and the tries"
expect_eq "$(status_of "$C")" revoked "C's LSC is revoked"
expect_not_contains "$(cat "$SW_LOG")" "cs=$(mac_of "$C")" "nothing reached the switch for C"

# ---- D: [coa] on_revoke, no flag, Disconnect-Request, JSON --------------------------------------
sed -i "s|^on_revoke = .*|on_revoke = true|" "$CAPF_DIR/lscgate.toml"
set +e
OUT=$(adm revoke "$D" --coa-mode disconnect --json 2>"$WORK/revoke-d.err")
rc=$?
set -e
expect_eq "$rc" 0 "revoke D --coa-mode disconnect --json (on_revoke = true, no --disconnect): exit 0"
ALL_OUTPUT+=$OUT$(cat "$WORK/revoke-d.err")
expect_eq "$(printf '%s' "$OUT" | python3 -c 'import json,sys; c=json.load(sys.stdin)["coa"]["results"][0]
print(c["nas"], c["port"], c["mode"], c["result"], c["tries"], c["calling_station_id"])')" \
    "127.0.0.1 $SW_PORT disconnect ACK 1 $(mac_of "$D")" "JSON: one NAS, Disconnect-Request ACKed on the first try"
wait_log "$SW_LOG" "cs=$(mac_of "$D")"
line=$(grep -F "cs=$(mac_of "$D")" "$SW_LOG" || true)
expect_contains "$line" "Disconnect-Request nas=127.0.0.1 cs=$(mac_of "$D")" "the switch got a Disconnect-Request for D"
expect_not_contains "$line" "subscriber:command" "a Disconnect-Request carries no Cisco command"
# F was never seen: with on_revoke its revoke would say so ("coa F: not seen …"); --no-disconnect says nothing.
expect_rc 0 "revoke F --no-disconnect overrides on_revoke" -- adm revoke "$F" --no-disconnect
expect_not_contains "$OUT" "coa " "no CoA with --no-disconnect"
expect_eq "$(status_of "$F")" revoked "F's LSC is revoked"

# ---- E: a secrets file others may read is refused; nothing is sent ------------------------------
chmod 644 "$CAPF_DIR/coa-secrets"
expect_rc 4 "revoke E --disconnect with a world-readable secrets file: exit 4" -- adm revoke "$E" --disconnect
ALL_OUTPUT+=$OUT
expect_contains "$OUT" "mode 0644" "the secrets file's mode is named"
expect_contains "$OUT" "chmod 600 $CAPF_DIR/coa-secrets" "with the fix"
expect_eq "$(status_of "$E")" revoked "E's LSC is revoked all the same"
expect_not_contains "$(cat "$SW_LOG")" "cs=$(mac_of "$E")" "nothing reached the switch for E"

# ---- the secret stays secret ---------------------------------------------------------------------
expect_not_contains "$ALL_OUTPUT" "$COA_SECRET" "no command output shows the shared secret"
expect_not_contains "$(cat "$SW_LOG")" "$COA_SECRET" "nor does the switch's log"
finish
