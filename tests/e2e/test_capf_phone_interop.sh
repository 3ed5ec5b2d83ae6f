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
for _ in $(seq 1 100); do  # bounded wait for the readiness line (it carries the port)
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
expect_failure() {
    local what=$1
    shift 2
    set +e
    OUT=$("$@" 2>&1)
    local rc=$?
    set -e
    if [ "$rc" -ne 0 ]; then pass "$what (rc=$rc)"; else failed "$what: rc=0"; echo "$OUT" | sed 's/^/    | /'; fi
}

strict_phone() {
    "$LSCGATE" phone --server "127.0.0.1:$STRICT_PORT" --capf-cert "$CAPF_DIR/capf.crt" --out "$WORK/strict-phones" "$@"
}

# The server really is strict: two keep-alives end the session (this is what the
# simulator used to send on every install).
expect_failure "two keep-alives are refused by the strict server" -- strict_phone --name SEP0000000BAD02 --keepalives 2 --timeout 10
expect_contains "$(cat "$STRICT_LOG")" "refused SEP0000000BAD02: Unexpected command: 17" "strict server: second REQUEST_IN_PROGRESS ends the session"
check_no_lsc() { test ! -e "$WORK/strict-phones/SEP0000000BAD02.lsc.pem"; }
if check_no_lsc; then pass "refused phone stored nothing"; else failed "refused phone stored an LSC"; fi

# One keep-alive is what the reference tolerates.
expect_rc 0 "one keep-alive is accepted" -- strict_phone --name SEP0000000BAD01 --keepalives 1
expect_contains "$OUT" "END_SESSION(1) installed" "one keep-alive: installed"
expect_contains "$(cat "$STRICT_LOG")" "enrolled SEP0000000BAD01 keepalives=1" "strict server saw exactly one keep-alive"

# Default behaviour, in load mode: 200 phones, 8 at a time.
expect_rc 0 "200 phones enrol against the strict server" -- \
    strict_phone --name SEP000000100000 --count 200 --concurrency 8
expect_contains "$OUT" "phones=200 concurrency=8 succeeded=200 refused=0 failed=0 keepalives=0" "load mode: 200 enrolled, no keep-alives"
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
expect_contains "$(cat "$CAPF_LOG")" "device=SEP0000000510B1 mode=null op=install result=succeeded" "slow phone: server logged success"

expect_rc 0 "three slow phones in load mode, 5 s +/- 0.5 s" -- \
    phone SEP0000000510A1 --count 3 --concurrency 3 --keygen-delay 5:0.5 --keepalive-interval 2
expect_contains "$OUT" "succeeded=3 refused=0 failed=0 keepalives=6" "slow load: all enrolled, two keep-alives each"

"$LSCGATE" --dir "$CAPF_DIR" device add SEP0000000510C1 >/dev/null
"$LSCGATE" --dir "$CAPF_DIR" op install SEP0000000510C1 --key ec:p256 >/dev/null
expect_failure "slow phone without keep-alives times out" -- phone SEP0000000510C1 --keygen-delay 5 --keepalive-interval 10
expect_contains "$(cat "$CAPF_LOG")" "device=SEP0000000510C1 mode=null op=install result=failed" "no keep-alives: server gave up"
expect_contains "$(cat "$CAPF_LOG")" "timed out waiting for KEY_GENERATE_RESPONSE" "no keep-alives: timeout is the cause"

stop_capf
finish
