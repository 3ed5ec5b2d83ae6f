# Shared helpers for end-to-end tests. Each test sources this file, gets its own
# work directory, and every process it starts is stopped by PID on exit.
set -euo pipefail

LSCGATE=${LSCGATE:?LSCGATE must point to the lscgate binary}
E2E_ROOT=${LSCGATE_E2E_TMP:-/tmp/lscgate-e2e}
mkdir -p "$E2E_ROOT"
WORK=$(mktemp -d "$E2E_ROOT/$(basename "$0" .sh).XXXXXX")
E2E_PIDS=()
E2E_DIRS=()  # removed by e2e_cleanup whatever the result (e.g. the PostgreSQL socket directory)
E2E_CHECKS=0
E2E_FAILS=0

e2e_cleanup() {
    local pid
    for pid in "${E2E_PIDS[@]:-}"; do
        [ -n "$pid" ] || continue
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    if [ "$E2E_FAILS" -eq 0 ] && [ -z "${KEEP_WORK:-}" ]; then rm -rf "$WORK"; else echo "work directory kept: $WORK"; fi
    local dir
    for dir in "${E2E_DIRS[@]:-}"; do [ -z "$dir" ] || rm -rf "$dir"; done
}
trap e2e_cleanup EXIT

free_port() {
    python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# wait_until SECONDS DESCRIPTION -- command...: polls the command until it succeeds,
# for at most SECONDS (a bound for a loaded CI machine, not a delay: it returns as
# soon as the event happened). Returns 1 and reports a failure on timeout.
wait_until() {
    local limit=$1 what=$2
    shift 3
    local deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            failed "$what: not within ${limit}s"
            return 1
        fi
        sleep 0.05
    done
}

# log_count FILE PATTERN: lines of FILE matching the fixed string PATTERN (0 if none).
log_count() { grep -cF -- "$2" "$1" 2>/dev/null || true; }

# wait_log FILE PATTERN [COUNT]: waits (bounded) until FILE has COUNT (default 1)
# lines with the fixed string PATTERN.
wait_log() {
    local file=$1 pattern=$2 count=${3:-1}
    wait_until 30 "log line '$pattern' x$count in $(basename "$file")" -- \
        bash -c '[ "$(grep -cF -- "$2" "$1" 2>/dev/null)" -ge "$3" ]' _ "$file" "$pattern" "$count"
}

pass() { E2E_CHECKS=$((E2E_CHECKS + 1)); echo "ok   - $*"; }
failed() { E2E_CHECKS=$((E2E_CHECKS + 1)); E2E_FAILS=$((E2E_FAILS + 1)); echo "FAIL - $*"; }

# expect_rc EXPECTED DESCRIPTION -- command...   (output saved in $OUT)
expect_rc() {
    local want=$1 what=$2
    shift 3
    set +e
    OUT=$("$@" 2>&1)
    local rc=$?
    set -e
    if [ "$rc" -eq "$want" ]; then pass "$what (rc=$rc)"; else failed "$what: rc=$rc, expected $want"; echo "$OUT" | sed 's/^/    | /'; fi
}

# expect_failure DESCRIPTION -- command...: any non-zero rc (output saved in $OUT).
expect_failure() {
    local what=$1
    shift 2
    set +e
    OUT=$("$@" 2>&1)
    local rc=$?
    set -e
    if [ "$rc" -ne 0 ]; then pass "$what (rc=$rc)"; else failed "$what: succeeded, expected a failure"; echo "$OUT" | sed 's/^/    | /' | tail -20; fi
}

expect_contains() {
    local haystack=$1 needle=$2 what=$3
    if grep -qF -- "$needle" <<<"$haystack"; then pass "$what"; else failed "$what: missing '$needle'"; echo "$haystack" | sed 's/^/    | /' | tail -20; fi
}

expect_not_contains() {
    local haystack=$1 needle=$2 what=$3
    if grep -qF -- "$needle" <<<"$haystack"; then failed "$what: unexpected '$needle'"; echo "$haystack" | sed 's/^/    | /' | tail -20; else pass "$what"; fi
}

expect_eq() {
    local got=$1 want=$2 what=$3
    if [ "$got" = "$want" ]; then pass "$what ($got)"; else failed "$what: got '$got', expected '$want'"; fi
}

# sql DB QUERY: one value from the registry (read-only)
sql() { sqlite3 -readonly "$1" "$2"; }

# start_capf DIR [extra serve args]: starts `lscgate serve` on a free loopback port,
# sets CAPF_PORT / CAPF_PID / CAPF_LOG, waits until it listens.
start_capf() {
    local dir=$1
    shift
    CAPF_PORT=$(free_port)
    CAPF_LOG="$WORK/capf-$CAPF_PORT.log"
    "$LSCGATE" --dir "$dir" serve --listen "127.0.0.1:$CAPF_PORT" "$@" >"$CAPF_LOG" 2>&1 &
    CAPF_PID=$!
    E2E_PIDS+=("$CAPF_PID")
    local deadline=$((SECONDS + 30))
    while [ "$SECONDS" -lt "$deadline" ]; do
        grep -q "capf listening" "$CAPF_LOG" 2>/dev/null && return 0
        kill -0 "$CAPF_PID" 2>/dev/null || { echo "lscgate serve died:"; cat "$CAPF_LOG"; return 1; }
        sleep 0.05
    done
    echo "lscgate serve did not start within 30 s"; cat "$CAPF_LOG"; return 1
}

stop_capf() {
    kill -TERM "$CAPF_PID" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while [ "$SECONDS" -lt "$deadline" ]; do kill -0 "$CAPF_PID" 2>/dev/null || return 0; sleep 0.05; done
    failed "lscgate serve did not stop within 30 s of SIGTERM"
    kill -KILL "$CAPF_PID" 2>/dev/null || true
}

# phone NAME [args]: one simulated phone session against the running server.
phone() {
    local name=$1
    shift
    "$LSCGATE" phone --server "127.0.0.1:$CAPF_PORT" --capf-cert "$CAPF_DIR/capf.crt" --name "$name" --out "$WORK/phones" "$@"
}

finish() {
    echo "$((E2E_CHECKS - E2E_FAILS)) passed, $E2E_FAILS failed"
    [ "$E2E_FAILS" -eq 0 ]
}
