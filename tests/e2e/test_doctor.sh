#!/usr/bin/env bash
# lscgate doctor: one row per symptom of Cisco's LSC troubleshooting section,
# each reproduced for real and named by doctor (check id, the phone's words),
# with exit codes 0 (nothing wrong) / 1 (warnings) / 2 (failures).
source "$(dirname "$0")/lib.sh"

ITL_FIXTURE=${ITL_FIXTURE:?ITL_FIXTURE must point to the itl_fixture tool}
D=$WORK/capf
F=$WORK/itl
jv() { python3 -c 'import json,sys; d=json.load(sys.stdin); v=eval(sys.argv[1]); print(str(v).lower() if isinstance(v,bool) else v)' "$1"; }
# finding CHECK: "severity|symptom" of the first finding with that id in $OUT ("none" if absent)
finding() { jv "next((f['severity']+'|'+f['symptom'] for f in d['findings'] if f['check']=='$1'), 'none')" <<<"$OUT"; }
# expect_finding CHECK SEVERITY SYMPTOM-WORDS ROW
expect_finding() {
    local got
    got=$(finding "$1")
    if [ "${got%%|*}" = "$2" ] && grep -qF -- "$3" <<<"$got"; then pass "$4: $1 ($2) \"$3\""
    else failed "$4: expected $1 $2 with '$3', got '$got'"; echo "$OUT" | sed 's/^/    | /' | head -40; fi
}
doctor() { "$LSCGATE" --dir "$D" doctor --json "$@"; }

expect_rc 0 "init" -- "$LSCGATE" init --dir "$D"
PORT=$(free_port)
sed -i "s/^listen = .*/listen = \"127.0.0.1:$PORT\"/" "$D/lscgate.toml"
"$ITL_FIXTURE" "$F" "$D/capf.crt"

# ---- a healthy setup: exit 0 ----------------------------------------------------
"$LSCGATE" --dir "$D" serve >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
E2E_PIDS+=("$SERVE_PID")
wait_log "$WORK/serve.log" "capf listening"
"$LSCGATE" --dir "$D" device add SEP0011223344AA >/dev/null
"$LSCGATE" --dir "$D" op install SEP0011223344AA --auth null --by +2h >/dev/null
expect_rc 0 "healthy: serve up, ITL names this CAPF, host resolves, device scheduled" -- \
    doctor --itl "$F/real.tlv" --capf-host 127.0.0.1 --device SEP0011223344AA
expect_finding serve ok "" "serve reachable, TLS with the configured CAPF"
expect_finding itl.capf ok "" "ITL's CAPF record is this CAPF"
expect_finding capf-host ok "" "CAPF host resolves to where serve listens"

# ---- ITL rows ---------------------------------------------------------------------
expect_rc 2 "wrong CAPF in the ITL" -- doctor --no-serve --itl "$F/other-capf.tlv"
expect_finding itl.capf-other fail "LSC: Connection Failed" "row: wrong CAPF in ITL"
expect_rc 2 "ITL without a CAPF record" -- doctor --no-serve --itl "$F/no-capf.tlv"
expect_finding itl.capf-missing fail "No valid CAPF server" "row: ITL without CAPF"
expect_rc 2 "corrupt ITL" -- doctor --no-serve --itl "$F/truncated.tlv"
expect_finding itl.corrupt fail "Operation Pending" "row: corrupt ITL"
expect_rc 2 "ITL altered after signing" -- doctor --no-serve --itl "$F/tampered.tlv"
expect_finding itl.signature fail "Trust List Update Failed" "row: ITL signature does not verify"
expect_rc 1 "unsigned ITL" -- doctor --no-serve --itl "$F/unsigned.tlv"
expect_finding itl.unsigned warn "Trust List Update Failed" "row: unsigned ITL"

# ---- CAPF host rows ---------------------------------------------------------------
expect_rc 2 "a name that does not resolve" -- doctor --no-serve --capf-host capf.does-not-exist.invalid
expect_finding capf-host.unresolved fail "No valid CAPF server" "row: CAPF host does not resolve"
expect_rc 2 "a name resolving to another host" -- doctor --no-serve --capf-host 192.0.2.10
expect_finding capf-host.elsewhere fail "LSC: Connection Failed" "row: CAPF host is not where serve listens"

# ---- device rows ------------------------------------------------------------------
expect_rc 2 "unknown device" -- doctor --no-serve --device SEP0011223344FF
expect_finding device.unknown fail "Operation Pending" "row: device not registered"
"$LSCGATE" --dir "$D" device add SEP00112233440B SEP00112233440C SEP00112233440D >/dev/null
"$LSCGATE" --dir "$D" op install SEP00112233440B --auth null --by +1h >/dev/null
# The deadline passed (as if the phone came back a day later): completes_by set in the past.
sqlite3 "$D/lscgate.db" "UPDATE operations SET completes_by = strftime('%s','now') - 86400 WHERE device_id = (SELECT id FROM devices WHERE name='SEP00112233440B')"
expect_rc 2 "late operation" -- doctor --no-serve --device SEP00112233440B
expect_finding device.late fail "Late/Timedout" "row: operation past its completes-by"
"$LSCGATE" --dir "$D" op install SEP00112233440C --auth lsc --by +2h >/dev/null
expect_rc 2 "existing-certificate mode, phone has only a MIC" -- doctor --no-serve --device SEP00112233440C
expect_finding device.mic-only fail "Operation Pending" "row: MIC in an existing-certificate mode"
sqlite3 "$D/lscgate.db" "UPDATE devices SET auth_failures = 5, locked_until = strftime('%s','now') + 600 WHERE name='SEP00112233440D'"
expect_rc 2 "locked device" -- doctor --no-serve --device SEP00112233440D
expect_finding device.locked fail "LSC: Failed" "row: device locked out"

# The phone's recent operations with their causes: an enrolment cancelled, then one scheduled anew.
"$LSCGATE" --dir "$D" device add SEP00112233440E >/dev/null
"$LSCGATE" --dir "$D" op install SEP00112233440E --auth null --by +2h >/dev/null
"$LSCGATE" --dir "$D" op cancel SEP00112233440E >/dev/null
"$LSCGATE" --dir "$D" op install SEP00112233440E --auth string:13572468 --by +2h >/dev/null
expect_rc 1 "last operation cancelled, a new one pending" -- doctor --no-serve --device SEP00112233440E
expect_finding device.last-session warn "ended with cancelled" "row: the last finished operation was cancelled"
cause=$(jv "next(f['cause'] for f in d['findings'] if f['check']=='device.last-session')" <<<"$OUT")
expect_contains "$cause" "(install, auth string) pending" "the newest operation is listed first"
expect_contains "$cause" "(install, auth null) cancelled" "then the cancelled one"
expect_contains "$cause" "cancelled by administrator" "with its cause"

# Recorded CAPF sessions (issue 10 item 4): the last one failed, by its class.
"$LSCGATE" --dir "$D" device add SEP00112233440F >/dev/null
"$LSCGATE" --dir "$D" op install SEP00112233440F --auth string:13572468 --by +2h >/dev/null
sim() { "$LSCGATE" phone --server "127.0.0.1:$PORT" --capf-cert "$D/capf.crt" --name SEP00112233440F --out "$WORK/phones" "$@"; }
expect_rc 2 "a phone typing the wrong string" -- sim --auth-string 11111111
wait_log "$WORK/serve.log" "device=SEP00112233440F "
expect_rc 1 "the last CAPF session failed" -- doctor --no-serve --device SEP00112233440F
expect_finding device.last-capf-session warn "class wrong-string" "row: the last recorded session's class"
cause=$(jv "next(f['cause'] for f in d['findings'] if f['check']=='device.last-capf-session')" <<<"$OUT")
expect_contains "$cause" "install rejected [wrong-string] authentication failed: wrong authentication string" "the session with its class and cause"
expect_rc 0 "the right string enrols" -- sim --auth-string 13572468
wait_log "$WORK/serve.log" "device=SEP00112233440F " 2
OUT=$(doctor --no-serve --device SEP00112233440F) || true
expect_eq "$(finding device.last-capf-session)" none "the last session succeeded: no warning"
cause=$(jv "next(f['cause'] for f in d['findings'] if f['check']=='device.capf-sessions')" <<<"$OUT")
expect_contains "$cause" "install succeeded" "the newest session first"
expect_contains "$cause" "most recent failure: class wrong-string" "the most recent failure's class named"

# ---- serve rows -------------------------------------------------------------------
kill -TERM "$SERVE_PID"
wait_until 30 "serve stopped" -- bash -c "! kill -0 $SERVE_PID"
expect_rc 2 "serve stopped" -- doctor
expect_finding serve.unreachable fail "LSC: Connection Failed" "row: CAPF service down / port unreachable"
# serve running with another CAPF than the directory's (an import without restart).
"$LSCGATE" init --dir "$WORK/other" >/dev/null
sed -i "s/^listen = .*/listen = \"127.0.0.1:$PORT\"/" "$WORK/other/lscgate.toml"
"$LSCGATE" --dir "$WORK/other" serve >"$WORK/serve2.log" 2>&1 &
E2E_PIDS+=("$!")
wait_log "$WORK/serve2.log" "capf listening"
expect_rc 2 "serve presents another CAPF certificate" -- doctor
expect_finding serve.tls fail "LSC: Connection Failed" "row: serve's certificate is not the configured CAPF"

# ---- CAPF certificate rows --------------------------------------------------------
E=$WORK/expired
"$LSCGATE" init --dir "$E" >/dev/null
cp "$F/expired-capf.pem" "$E/capf.crt"
cp "$F/expired-capf.key" "$E/capf.key"
expect_rc 2 "expired CAPF certificate" -- "$LSCGATE" --dir "$E" doctor --json --no-serve
expect_finding capf.expired fail "LSC: Connection Failed" "row: CAPF certificate expired"
expect_finding capf.not-ca fail "unable to get local issuer certificate" "row: CAPF without CA:TRUE"
S=$WORK/soon
"$LSCGATE" init --dir "$S" --capf-days 10 >/dev/null
OUT=$("$LSCGATE" --dir "$S" doctor --json --no-serve) && rc=0 || rc=$?
expect_eq "$rc" 1 "CAPF expiring in 10 days is a warning (exit 1)"
expect_finding capf.expiring warn "certificate has expired" "row: CAPF certificate expiring"
OUT=$("$LSCGATE" --dir "$S" doctor --json --no-serve --capf-host 127.0.0.1) && rc=0 || rc=$?
expect_eq "$rc" 1 "a CAPF host that resolves only to loopback is a warning"
expect_finding capf-host.loopback warn "LSC: Connection Failed" "row: CAPF host resolves to loopback while serve listens on all addresses"
W=$WORK/weak
"$LSCGATE" init --dir "$W" >/dev/null
openssl req -x509 -newkey rsa:1024 -sha1 -nodes -keyout "$W/capf.key" -out "$W/capf.crt" -days 365 -subj "/CN=CAPF-weak" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
chmod 600 "$W/capf.key"
expect_rc 2 "1024-bit SHA-1 CAPF" -- "$LSCGATE" --dir "$W" doctor --json --no-serve
expect_finding capf.weak fail "CA certificate key too weak" "row: weak CAPF key / SHA-1"

# Text output: symptom, cause, fix lines.
expect_rc 2 "text output" -- "$LSCGATE" --dir "$D" doctor --no-serve --itl "$F/no-capf.tlv"
expect_contains "$OUT" "symptom: phone shows \"No valid CAPF server\"" "text names the symptom"
expect_contains "$OUT" "fix:" "text gives the fix"

finish
