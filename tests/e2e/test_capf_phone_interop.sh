#!/usr/bin/env bash
# The phone simulator against CAPF servers other than lscgate's own (issue 6 item 2):
#  1. a strict CAPF server written here in Python (strict_capf_server.py) that, like
#     the public reference server, ends the session on a second REQUEST_IN_PROGRESS:
#     `lscgate phone --count 200 --concurrency 8` must enrol all 200 phones;
#  2. `lscgate serve` with a short keygen_timeout: a slow phone (--keygen-delay 5)
#     gets through only because its keep-alives restart the wait.
source "$(dirname "$0")/lib.sh"

SERVER="$(cd "$(dirname "$0")" && pwd)/strict_capf_server.py"
CAPF_DIR=$WORK/capf
"$LSCGATE" init --dir "$CAPF_DIR" >/dev/null

# --- 1. strict server --------------------------------------------------------------------
STRICT_LOG=$WORK/strict.log
python3 "$SERVER" --listen 127.0.0.1:0 --cert "$CAPF_DIR/capf.crt" --key "$CAPF_DIR/capf.key" >"$STRICT_LOG" 2>&1 &
STRICT_PID=$!
E2E_PIDS+=("$STRICT_PID")
STRICT_PORT=
for _ in $(seq 1 600); do  # bounded (60 s) wait for the readiness line (it carries the port)
    STRICT_PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$STRICT_LOG")
    [ -n "$STRICT_PORT" ] && break
    kill -0 "$STRICT_PID" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$STRICT_PORT" ]; then
    failed "strict CAPF server did not start"
    cat "$STRICT_LOG"
    finish
fi
pass "strict CAPF server listens on port $STRICT_PORT"

# expect_failure DESCRIPTION -- command...: any non-zero exit. Whether the phone reads the
# server's END_SESSION(7) (exit 2) or hits the closed connection first (exit 1) is a race
# of the TCP close; the server's log below says what happened.

# session_line FILE NEEDLE: the log line containing NEEDLE, waiting (bounded) for it:
# a server may log a session after it closed the connection (the strict test server
# does), so after the phone is done. Bounded: 30 s.
session_line() {
    for _ in $(seq 1 300); do
        grep -F -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 0
}

strict_phone() {
    "$LSCGATE" phone --server "127.0.0.1:$STRICT_PORT" --capf-cert "$CAPF_DIR/capf.crt" --out "$WORK/strict-phones" "$@"
}

# The server really is strict: two keep-alives end the session (this is what the
# simulator used to send on every install).
expect_failure "two keep-alives are refused by the strict server" -- strict_phone --name SEP0000000BAD02 --keepalives 2 --timeout 10
expect_contains "$(session_line "$STRICT_LOG" "refused SEP0000000BAD02")" "refused SEP0000000BAD02: Unexpected command: 17" "strict server: second REQUEST_IN_PROGRESS ends the session"
check_no_lsc() { test ! -e "$WORK/strict-phones/SEP0000000BAD02.lsc.pem"; }
if check_no_lsc; then pass "refused phone stored nothing"; else failed "refused phone stored an LSC"; fi

# One keep-alive is what the reference tolerates.
expect_rc 0 "one keep-alive is accepted" -- strict_phone --name SEP0000000BAD01 --keepalives 1
expect_contains "$OUT" "END_SESSION(1) installed" "one keep-alive: installed"
expect_contains "$(session_line "$STRICT_LOG" "enrolled SEP0000000BAD01")" "enrolled SEP0000000BAD01 keepalives=1" "strict server saw exactly one keep-alive"

# Default behaviour, in load mode: 200 phones, 8 at a time.
expect_rc 0 "200 phones enrol against the strict server" -- \
    strict_phone --name SEP000000100000 --count 200 --concurrency 8
expect_contains "$OUT" "phones=200 concurrency=8 succeeded=200 refused=0 failed=0 keepalives=0" "load mode: 200 enrolled, no keep-alives"
for _ in $(seq 1 600); do  # bounded (60 s): the server prints its line after END_SESSION
    [ "$(grep -c '^enrolled SEP0000001' "$STRICT_LOG")" = 200 ] && break
    sleep 0.1
done
expect_eq "$(grep -c '^enrolled SEP0000001' "$STRICT_LOG")" "200" "strict server enrolled 200 phones"
expect_eq "$(ls "$WORK/strict-phones" | grep -c '^SEP0000001.*\.lsc\.pem$')" "200" "200 LSCs stored by the phones"
expect_rc 0 "a stored LSC verifies against the CAPF" -- \
    openssl verify -CAfile "$CAPF_DIR/capf.crt" "$WORK/strict-phones/SEP0000001000C7.lsc.pem"
kill -TERM "$STRICT_PID" 2>/dev/null || true

# --- 2. lscgate serve and a slow phone ---------------------------------------------------
# keygen_timeout = 3: without keep-alives a 5 s phone times out; each keep-alive
# restarts the wait (up to 4 x keygen_timeout in all).
sed -i 's/^keygen_timeout = .*/keygen_timeout = 3/' "$CAPF_DIR/lscgate.toml"
expect_eq "$(grep -c '^keygen_timeout = 3' "$CAPF_DIR/lscgate.toml")" "1" "serve: keygen_timeout set to 3 s"
start_capf "$CAPF_DIR"
for n in SEP0000000510A1 SEP0000000510A2 SEP0000000510A3 SEP0000000510B1; do
    "$LSCGATE" --dir "$CAPF_DIR" device add "$n" >/dev/null
    "$LSCGATE" --dir "$CAPF_DIR" op install "$n" --key ec:p256 >/dev/null
done

expect_rc 0 "slow phone (5 s) with keep-alives every 2 s" -- phone SEP0000000510B1 --keygen-delay 5 --keepalive-interval 2
expect_contains "$OUT" "END_SESSION(1) installed" "slow phone: installed"
expect_contains "$OUT" "keepalives=2" "slow phone: sent two keep-alives"
expect_contains "$(session_line "$CAPF_LOG" "device=SEP0000000510B1 ")" "device=SEP0000000510B1 mode=null op=install result=succeeded" "slow phone: server logged success"

expect_rc 0 "three slow phones in load mode, 5 s +/- 0.5 s" -- \
    phone SEP0000000510A1 --count 3 --concurrency 3 --keygen-delay 5:0.5 --keepalive-interval 2
expect_contains "$OUT" "succeeded=3 refused=0 failed=0 keepalives=6" "slow load: all enrolled, two keep-alives each"

"$LSCGATE" --dir "$CAPF_DIR" device add SEP0000000510C1 >/dev/null
"$LSCGATE" --dir "$CAPF_DIR" op install SEP0000000510C1 --key ec:p256 >/dev/null
expect_failure "slow phone without keep-alives times out" -- phone SEP0000000510C1 --keygen-delay 5 --keepalive-interval 10
expect_contains "$(session_line "$CAPF_LOG" "device=SEP0000000510C1 ")" "device=SEP0000000510C1 mode=null op=install result=failed" "no keep-alives: server gave up"
expect_contains "$(session_line "$CAPF_LOG" "device=SEP0000000510C1 ")" "timed out waiting for KEY_GENERATE_RESPONSE" "no keep-alives: timeout is the cause"

stop_capf

# --- 3. SUDI_DATA from both clients, verified once the SUDI CA is configured ------------
# A SUDI CA and an RSA SUDI leaf, made with the openssl CLI.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/O=Cisco/CN=Test SUDI CA" \
    -keyout "$WORK/sudi-ca.key" -out "$WORK/sudi-ca.pem" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -subj "/O=Cisco/CN=SUDI-CP-8841" \
    -keyout "$WORK/sudi.key" -out "$WORK/sudi.csr" 2>/dev/null
openssl x509 -req -in "$WORK/sudi.csr" -CA "$WORK/sudi-ca.pem" -CAkey "$WORK/sudi-ca.key" -CAcreateserial \
    -days 2 -out "$WORK/sudi.pem" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/O=Cisco/CN=SUDI-rogue" \
    -keyout "$WORK/rogue.key" -out "$WORK/rogue.pem" 2>/dev/null
add_install() { "$LSCGATE" --dir "$CAPF_DIR" device add "$1" >/dev/null; "$LSCGATE" --dir "$CAPF_DIR" op install "$1" "${@:2}" >/dev/null; }

# Without mic_roots (as above): ignored and noted, not refused.
start_capf "$CAPF_DIR"
add_install SEP0000000520A1 --key ec:p256
expect_rc 0 "simulator SUDI_DATA with no mic_roots is ignored" -- phone SEP0000000520A1 --sudi-cert "$WORK/rogue.pem" --sudi-key "$WORK/rogue.key"
expect_contains "$(session_line "$CAPF_LOG" "device=SEP0000000520A1 ")" 'note="SUDI_DATA ignored: no MIC roots configured' "no mic_roots: SUDI noted as ignored"
stop_capf

sed -i "s|^mic_roots = .*|mic_roots = \"$WORK/sudi-ca.pem\"|" "$CAPF_DIR/lscgate.toml"
start_capf "$CAPF_DIR"
add_install SEP0000000520B1 --key ec:p256
expect_rc 0 "simulator SUDI_DATA verifies against the configured SUDI CA" -- \
    phone SEP0000000520B1 --sudi-cert "$WORK/sudi.pem" --sudi-key "$WORK/sudi.key"
expect_not_contains "$(session_line "$CAPF_LOG" "device=SEP0000000520B1 ")" "note=" "verified SUDI: nothing ignored"
add_install SEP0000000520B2 --key ec:p256
expect_rc 0 "independent client's SUDI_DATA verifies too" -- \
    python3 "$(dirname "$SERVER")/capf_interop_client.py" --server "127.0.0.1:$CAPF_PORT" --capf-cert "$CAPF_DIR/capf.crt" \
    --name SEP0000000520B2 --out "$WORK/phones" --keepalives 0 --sudi-cert "$WORK/sudi.pem" --sudi-key "$WORK/sudi.key"
add_install SEP0000000520B3 --key ec:p256 --auth string:24680
expect_rc 2 "a SUDI from another CA is refused once it can be checked" -- \
    phone SEP0000000520B3 --auth-string 24680 --sudi-cert "$WORK/rogue.pem" --sudi-key "$WORK/rogue.key"
expect_contains "$(session_line "$CAPF_LOG" "device=SEP0000000520B3 ")" "result=rejected" "untrusted SUDI: rejected"
expect_eq "$(sql "$CAPF_DIR/lscgate.db" "SELECT auth_failures FROM devices WHERE name = 'SEP0000000520B3';")" "1" "untrusted SUDI: counted"
stop_capf
finish
