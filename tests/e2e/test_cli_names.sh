#!/usr/bin/env bash
# Device names at the command line and on the wire: CUCM's rule per device class
# (SEP/ATA + MAC, CSF, TCT/BOT/TAB), duplicates in one command acted on once,
# control characters escaped in every message and log line; and the notBefore
# margin of freshly issued certificates (a verifier whose clock lags accepts them).
source "$(dirname "$0")/lib.sh"

CLIENT="$(cd "$(dirname "$0")" && pwd)/capf_interop_client.py"
CAPF_DIR=$WORK/capf
DB=$CAPF_DIR/lscgate.db
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }
devices() { sql "$DB" "SELECT count(*) FROM devices WHERE name='$1'"; }
pending() { sql "$DB" "SELECT count(*) FROM operations o JOIN devices d ON d.id=o.device_id WHERE d.name='$1' AND o.state='pending'"; }
ESC=$'\x1b'

expect_rc 0 "init" -- "$LSCGATE" init --dir "$CAPF_DIR"

# ---- CUCM device-name rules, per class ----------------------------------------
expect_rc 1 "CSF names are letters and digits only" -- adm device add CSFJ.DOE
expect_contains "$OUT" "CSF (Jabber for Windows/Mac) names are CSF followed by letters and digits only" "message names the CSF rule"
expect_rc 1 "TCT names are upper case" -- adm device add tctjdoe
expect_contains "$OUT" "upper case" "message names the TCT rule"
expect_contains "$OUT" "TCTJDOE" "and suggests the upper-case spelling"
expect_rc 1 "16 characters are too many" -- adm device add CSFabcdefghijklm
expect_contains "$OUT" "at most 15" "message names the length rule"
expect_rc 1 "SEP + 11 hex digits" -- adm device add SEP00112233445
expect_contains "$OUT" "12 hex digits" "message names the SEP rule"
expect_eq "$(sql "$DB" "SELECT count(*) FROM devices")" 0 "no device was added by refused names"
expect_rc 0 "one name of each class" -- adm device add CSFjdoe TCTJ.DOE-1 BOTJ_DOE TABJDOE sep0011223344aa ata0011223344ab
expect_eq "$(devices SEP0011223344AA)$(devices ATA0011223344AB)" 11 "SEP/ATA names are stored upper case"
expect_eq "$(devices CSFjdoe)" 1 "CSF names keep their case"
expect_rc 0 "SEP lookup ignores case" -- adm device show sep0011223344AA
expect_rc 1 "CSF lookup is exact" -- adm device show CSFJDOE
expect_contains "$OUT" "no such device: CSFJDOE" "a differently-cased CSF name is another device"
expect_rc 0 "CSF exact lookup" -- adm device show CSFjdoe

# ---- auth=null for a soft client warns ---------------------------------------
expect_rc 0 "null install for a Jabber client" -- adm op install CSFjdoe --auth null
expect_contains "$OUT" "CSFjdoe is a CSF (Jabber for Windows/Mac) soft client" "warns that a soft client gets auth=null"
expect_rc 0 "null install for a hardware phone" -- adm op install SEP0011223344AA --auth null
expect_not_contains "$OUT" "soft client" "no soft-client warning for a SEP phone"
expect_rc 0 "string install for a Jabber client" -- adm op install TCTJ.DOE-1 --auth string
expect_not_contains "$OUT" "soft client" "no warning with an authentication string"

# ---- duplicates in one command are acted on once ------------------------------
expect_rc 0 "device add X X" -- adm device add SEP000000000011 SEP000000000011
expect_not_contains "$OUT" "already exists" "a new device is not reported as existing"
expect_contains "$OUT" "SEP000000000011 was given more than once" "the duplicate is reported"
expect_eq "$(grep -c "more than once" <<<"$OUT")" 1 "once"
expect_eq "$(devices SEP000000000011)" 1 "and added once"
expect_rc 0 "device add with spellings that normalise alike" -- adm device add sep0000000000aa SEP0000000000AA Sep0000000000Aa
expect_eq "$(grep -c "SEP0000000000AA was given more than once" <<<"$OUT")" 1 "reported once, by its normalised name"
expect_rc 0 "op install X X --auth string" -- adm op install SEP000000000011 SEP000000000011 --auth string
expect_eq "$(grep -c "auth-string=" <<<"$OUT")" 1 "one authentication string is printed"
expect_eq "$(pending SEP000000000011)" 1 "one operation is pending"
expect_eq "$(sql "$DB" "SELECT count(*) FROM operations o JOIN devices d ON d.id=o.device_id WHERE d.name='SEP000000000011'")" 1 \
    "and only one was ever scheduled (none replaced)"
expect_rc 0 "op install --json with a duplicate" -- bash -c "\"$LSCGATE\" --dir \"$CAPF_DIR\" op install SEP0000000000AA sep0000000000aa --json 2>/dev/null"
expect_eq "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$OUT")" 1 "the JSON lists the device once"
expect_rc 0 "op cancel X X" -- adm op cancel SEP000000000011 SEP000000000011
expect_contains "$OUT" "given more than once" "cancel reports the duplicate"
expect_eq "$(pending SEP000000000011)" 0 "the operation is cancelled"
expect_rc 1 "op cancel of a known and an unknown device" -- adm op cancel SEP0000000000AA SEP0000000000EE
expect_eq "$(pending SEP0000000000AA)" 1 "cancels nothing"
expect_rc 1 "device remove of a known and an unknown device" -- adm device remove SEP000000000011 SEP0000000000EE
expect_contains "$OUT" "nothing was removed" "says nothing was removed"
expect_eq "$(devices SEP000000000011)" 1 "and removes nothing"
expect_rc 0 "device remove X X" -- adm device remove SEP000000000011 sep000000000011
expect_contains "$OUT" "given more than once" "remove reports the duplicate"
expect_eq "$(devices SEP000000000011)" 0 "and removes the device"

# ---- control characters are escaped in every message --------------------------
for cmd in "device add" "device show" "device remove" "op install" "op cancel" "revoke" "cert list --device" "op list --device"; do
    # shellcheck disable=SC2086
    expect_rc 1 "$cmd with a control character" -- adm $cmd "SEP${ESC}[2Jx"$'\n'"forged"
    expect_not_contains "$OUT" "$ESC" "$cmd: no raw ESC in the message"
    expect_contains "$OUT" 'SEP\x1B[2Jx\nforged' "$cmd: the name is shown escaped"
    expect_eq "$(wc -l <<<"$OUT")" 1 "$cmd: one line"
done
for arg in "--auth" "--key" "--by"; do
    expect_rc 1 "op install $arg with a control character" -- adm op install SEP0011223344AA "$arg" "x${ESC}y"
    expect_contains "$OUT" 'x\x1By' "$arg: the value is shown escaped"
done
expect_rc 1 "revoke --serial with a control character" -- adm revoke --serial "AB${ESC}"
expect_contains "$OUT" 'AB\x1B' "the serial is shown escaped"
expect_rc 1 "capf retire with a control character" -- adm capf retire "ABCDEF01${ESC}"
expect_contains "$OUT" 'ABCDEF01\x1B' "the fingerprint is shown escaped"
expect_rc 1 "init --subject with a control character" -- "$LSCGATE" init --dir "$WORK/other" --subject "CN${ESC}"
expect_contains "$OUT" 'CN\x1B' "the subject is shown escaped"

start_capf "$CAPF_DIR"
# A phone that sends a DEVICE_NAME with control characters: one log line, escaped.
expect_rc 2 "DEVICE_NAME with control characters" -- python3 "$CLIENT" --server "127.0.0.1:$CAPF_PORT" \
    --capf-cert "$CAPF_DIR/capf.crt" --name "SEP${ESC}[2J"$'\r\n'"2030-01-01T00:00:00Z capf forged" --out "$WORK/py" --timeout 20
wait_for_log() { for _ in $(seq 1 300); do grep -qF -- "$1" "$CAPF_LOG" && return 0; sleep 0.1; done; return 1; }
if wait_for_log 'invalid device name'; then pass "the session is logged"; else failed "no session log line"; fi
expect_not_contains "$(cat "$CAPF_LOG")" "$ESC" "no raw ESC in the server log"
expect_contains "$(grep 'invalid device name' "$CAPF_LOG")" 'SEP\\x1B[2J\\r\\n2030' "the name is escaped in the log line"
expect_eq "$(grep -c '^2030-01-01T00:00:00Z capf forged' "$CAPF_LOG")" 0 "no forged log line"

# ---- notBefore is backdated: a RADIUS host 90 s behind accepts a fresh LSC -----
lag=$(($(date +%s) - 90))
expect_rc 0 "the CAPF certificate from init is valid 90 s ago" -- openssl verify -attime "$lag" -CAfile "$CAPF_DIR/capf.crt" "$CAPF_DIR/capf.crt"
expect_rc 0 "enrol a phone" -- "$LSCGATE" phone --server "127.0.0.1:$CAPF_PORT" --capf-cert "$CAPF_DIR/capf.crt" \
    --name SEP0011223344AA --out "$WORK/phones"
issued=$(date +%s)  # at or after the issuing second
expect_rc 0 "its fresh LSC verifies at a clock 90 s behind" -- \
    openssl verify -attime "$(($(date +%s) - 90))" -CAfile "$CAPF_DIR/capf.crt" "$WORK/phones/SEP0011223344AA.lsc.pem"
expect_rc 0 "cert list" -- adm cert list --device SEP0011223344AA
expect_contains "$OUT" "NOT BEFORE" "cert list shows notBefore"
nb=$(sql "$DB" "SELECT not_before FROM certificates WHERE device_name='SEP0011223344AA' AND status='active'")
expect_eq "$((issued - nb >= 300 && issued - nb <= 300 + 60))" 1 "notBefore is the issuing time minus 300 s ($((issued - nb)) s)"
expect_contains "$OUT" "$(date -u -d "@$nb" +%Y-%m-%dT%H:%M:%SZ)" "cert list prints that notBefore"
stop_capf

sed -i 's/^backdate_seconds = 300 .*/backdate_seconds = 7200/' "$CAPF_DIR/lscgate.toml"
expect_rc 1 "backdate_seconds out of range" -- timeout 20 "$LSCGATE" --dir "$CAPF_DIR" serve --listen "127.0.0.1:$(free_port)"
expect_contains "$OUT" "[capf] backdate_seconds = 7200 is out of range: use 0 to 3600" "the error names the key and the range"

finish
