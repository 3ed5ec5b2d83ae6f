#!/usr/bin/env bash
# lscgate serve + lscgate phone on loopback: every auth mode x operation, RSA and
# EC keys, and the failure paths (wrong string + lockout, late deadline, unknown
# device, dropped connection, refused store, wrong key, mode mismatch, SIGTERM).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/mic_pki.sh"

CAPF_DIR=$WORK/capf
"$LSCGATE" init --dir "$CAPF_DIR" >/dev/null
make_mic_pki "$WORK/mic" SEP0000000000A1 SEP0000000000A2 SEP0000000000A3 SEP0000000000A4 SEP0000000000A5 SEP0000000000A6
sed -i "s|^mic_roots = \"\"|mic_roots = \"$WORK/mic/mfg-ca.pem\"|; s|^lockout_failures = 5|lockout_failures = 3|" "$CAPF_DIR/lscgate.toml"
DB=$CAPF_DIR/lscgate.db
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }
op_state() { sql "$DB" "SELECT o.state FROM operations o JOIN devices d ON d.id=o.device_id WHERE d.name='$1' ORDER BY o.id DESC LIMIT 1"; }
active_lscs() { sql "$DB" "SELECT count(*) FROM certificates WHERE device_name='$1' AND kind='lsc' AND status='active'"; }

start_capf "$CAPF_DIR"

# ---- every auth mode x install / fetch / delete -------------------------------
i=0
for mode in null string lsc mic lsc-or-mic mic-or-lsc; do
    i=$((i + 1))
    dev=SEP0000000000A$i
    mic=(--mic-cert "$WORK/mic/$dev.mic.pem" --mic-key "$WORK/mic/$dev.mic.key")
    case $i in 1|3|5) key=rsa:2048; want_key=rsa:2048 ;; 2) key=ec:p384; want_key=ec:384 ;; *) key=ec:p256; want_key=ec:256 ;; esac
    auth=$mode; creds=()
    case $mode in
        string) auth=string:4455667788; creds=(--auth-string 4455667788) ;;
        mic) creds=("${mic[@]}" --prefer mic) ;;
        lsc-or-mic) creds=("${mic[@]}") ;;
        mic-or-lsc) creds=("${mic[@]}" --prefer mic) ;;
    esac
    adm device add "$dev" --model CP-8841 >/dev/null
    if [ "$mode" = lsc ]; then
        # An LSC to re-key with: first enrolment by null string.
        adm op install "$dev" --auth null >/dev/null 2>&1
        expect_rc 0 "[$mode] bootstrap LSC" -- phone "$dev"
    fi
    first_serial=$(sql "$DB" "SELECT serial FROM certificates WHERE device_name='$dev' AND status='active'")

    adm op install "$dev" --auth "$auth" --key "$key" >/dev/null 2>&1
    expect_rc 0 "[$mode] install $key" -- phone "$dev" "${creds[@]}"
    expect_contains "$OUT" "END_SESSION(1) installed" "[$mode] phone stored the LSC"
    expect_eq "$(op_state "$dev")" succeeded "[$mode] install operation"
    expect_eq "$(active_lscs "$dev")" 1 "[$mode] exactly one active LSC"
    expect_eq "$(sql "$DB" "SELECT key_type || ':' || key_bits FROM certificates WHERE device_name='$dev' AND status='active'")" "$want_key" "[$mode] key as requested"
    expect_rc 0 "[$mode] openssl verify against the CAPF" -- openssl verify -CAfile "$CAPF_DIR/capf.crt" "$WORK/phones/$dev.lsc.pem"
    expect_eq "$(stat -c %a "$WORK/phones/$dev.lsc.key")" 600 "[$mode] phone key file mode"
    if [ -n "$first_serial" ]; then
        expect_eq "$(sql "$DB" "SELECT status FROM certificates WHERE serial='$first_serial'")" superseded "[$mode] re-key supersedes the old LSC"
    fi

    adm op fetch "$dev" --auth "$auth" >/dev/null 2>&1
    expect_rc 0 "[$mode] fetch" -- phone "$dev" "${creds[@]}"
    expect_contains "$OUT" "END_SESSION(0) fetched" "[$mode] phone sent its certificate"
    expect_eq "$(op_state "$dev")" succeeded "[$mode] fetch operation"

    adm op delete "$dev" --auth "$auth" >/dev/null 2>&1
    expect_rc 0 "[$mode] delete" -- phone "$dev" "${creds[@]}"
    expect_contains "$OUT" "END_SESSION(1) deleted" "[$mode] phone deleted its LSC"
    expect_eq "$(op_state "$dev")" succeeded "[$mode] delete operation"
    expect_eq "$(active_lscs "$dev")" 0 "[$mode] no active LSC after delete"
    expect_eq "$(sql "$DB" "SELECT count(*) FROM certificates WHERE device_name='$dev' AND status='removed'")" 1 "[$mode] LSC marked removed"
done

# ---- wrong authentication string, then lockout --------------------------------
adm device add SEP0000000000B1 >/dev/null
adm op install SEP0000000000B1 --auth string:13572468 >/dev/null 2>&1
expect_rc 2 "wrong string rejected" -- phone SEP0000000000B1 --auth-string 11111111
expect_contains "$OUT" "END_SESSION(7)" "wrong string gets END_SESSION(7)"
expect_eq "$(op_state SEP0000000000B1)" pending "operation stays pending after a wrong string"
expect_rc 2 "missing string rejected" -- phone SEP0000000000B1
expect_rc 2 "third wrong string rejected" -- phone SEP0000000000B1 --auth-string 22222222
expect_rc 2 "locked out: even the right string is refused" -- phone SEP0000000000B1 --auth-string 13572468
expect_contains "$(grep SEP0000000000B1 "$CAPF_LOG" | tail -1)" "locked out" "log names the lockout"
expect_contains "$(adm device show SEP0000000000B1)" "locked until" "device show reports the lockout"
expect_eq "$(active_lscs SEP0000000000B1)" 0 "no LSC issued to a locked device"
expect_not_contains "$(cat "$CAPF_LOG")" "13572468" "the authentication string is never logged"
expect_eq "$(sql "$DB" "SELECT count(*) FROM operations WHERE auth_secret LIKE '%13572468%'")" 0 "the string is stored only hashed"

# ---- completes-by deadline -----------------------------------------------------
adm device add SEP0000000000B2 >/dev/null
adm op install SEP0000000000B2 --by +1s >/dev/null 2>&1
# The event is the clock passing the stored deadline (whole seconds, UTC).
b2_deadline=$(sql "$DB" "SELECT o.completes_by FROM operations o JOIN devices d ON d.id = o.device_id WHERE d.name='SEP0000000000B2' ORDER BY o.id DESC LIMIT 1")
wait_until 30 "the completes-by deadline passes" -- bash -c "[ \$(date +%s) -gt $b2_deadline ]"
expect_rc 0 "late phone gets END_SESSION(0)" -- phone SEP0000000000B2
expect_contains "$OUT" "END_SESSION(0) none" "late phone is told there is nothing to do"
expect_eq "$(op_state SEP0000000000B2)" timed-out "late operation marked timed-out"
expect_eq "$(active_lscs SEP0000000000B2)" 0 "no LSC after the deadline"

# ---- unknown device --------------------------------------------------------------
expect_rc 2 "unknown device" -- phone SEP0000000000FF
expect_contains "$OUT" "END_SESSION(9)" "unknown device gets END_SESSION(9)"

# ---- phone drops the connection after key generation ----------------------------
adm device add SEP0000000000B3 >/dev/null
adm op install SEP0000000000B3 --key ec:p256 >/dev/null 2>&1
expect_rc 1 "phone drops after keygen" -- phone SEP0000000000B3 --fault drop-after-keygen
wait_log "$CAPF_LOG" "device=SEP0000000000B3 "
expect_eq "$(active_lscs SEP0000000000B3)" 0 "no active LSC recorded for a dropped session"
expect_eq "$(sql "$DB" "SELECT count(*) FROM certificates WHERE device_name='SEP0000000000B3'")" 0 "no certificate row at all"
expect_eq "$(op_state SEP0000000000B3)" pending "operation stays pending for the next attempt"
expect_rc 0 "the next attempt succeeds" -- phone SEP0000000000B3
expect_eq "$(active_lscs SEP0000000000B3)" 1 "LSC active after the retry"

# ---- phone refuses to store; phone returns the wrong key ------------------------
adm device add SEP0000000000B4 SEP0000000000B5 >/dev/null
adm op install SEP0000000000B4 SEP0000000000B5 --key ec:p256 >/dev/null 2>&1
expect_rc 2 "phone refuses to store" -- phone SEP0000000000B4 --fault refuse-store
expect_eq "$(sql "$DB" "SELECT count(*) FROM certificates WHERE device_name='SEP0000000000B4'")" 0 "unconfirmed LSC is not recorded"
expect_rc 2 "phone returns RSA-1024 when EC P-256 was asked" -- phone SEP0000000000B5 --fault wrong-key
expect_contains "$(grep SEP0000000000B5 "$CAPF_LOG" | tail -1)" "was requested" "log explains the key mismatch"

# ---- auth mode mismatch ------------------------------------------------------------
adm device add SEP0000000000B6 >/dev/null
adm op install SEP0000000000B6 --auth lsc >/dev/null 2>&1
expect_rc 2 "auth=lsc without an LSC is rejected" -- phone SEP0000000000B6
expect_contains "$(grep SEP0000000000B6 "$CAPF_LOG" | tail -1)" "certificate proof missing" "log gives the cause"

# ---- an LSC cannot be used to impersonate another phone ---------------------------
adm op install SEP0000000000B6 --auth lsc >/dev/null 2>&1
expect_rc 2 "another device's LSC is rejected" -- phone SEP0000000000B6 --cert "$WORK/phones/SEP0000000000B3.lsc.pem" --key "$WORK/phones/SEP0000000000B3.lsc.key"

# ---- a revoked LSC can no longer re-key --------------------------------------------
serial=$(sql "$DB" "SELECT serial FROM certificates WHERE device_name='SEP0000000000B3' AND status='active'")
expect_rc 0 "revoke by device" -- adm revoke SEP0000000000B3 --reason key-compromise
expect_contains "$OUT" "$serial" "revoke names the serial"
expect_eq "$(sql "$DB" "SELECT status || ' ' || revocation_reason FROM certificates WHERE serial='$serial'")" "revoked key-compromise" "LSC is revoked with its reason"
adm op install SEP0000000000B3 --auth lsc >/dev/null 2>&1
expect_rc 2 "re-key with a revoked LSC is refused" -- phone SEP0000000000B3
expect_contains "$(grep SEP0000000000B3 "$CAPF_LOG" | tail -1)" "is revoked" "log says the LSC is revoked"

# ---- SIGTERM ----------------------------------------------------------------------------
stop_capf
expect_contains "$(tail -1 "$CAPF_LOG")" "capf stopped" "SIGTERM stops the server cleanly"
expect_eq "$(grep -c 'capf session=' "$CAPF_LOG")" "$(grep -c 'result=' "$CAPF_LOG")" "one log line per session"

finish
