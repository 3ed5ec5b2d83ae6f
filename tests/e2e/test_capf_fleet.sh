#!/usr/bin/env bash
# A fleet of slow phones at once on the event-loop server (issue 9 item 1):
# 2 000 simulated phones, started within 10 s, each taking 12 s to generate its key
# (a keep-alive every second meanwhile), so that all of them are in session
# together. Every one enrols, none is refused, serve logs one line per session and
# records its row. Then 200 phones are held in key generation and serve gets
# SIGTERM with a 1 s grace: it waits, aborts them, logs each one's end, leaves
# their operations pending and stops.
source "$(dirname "$0")/lib.sh"

CAPF_DIR=$WORK/capf
DB=$CAPF_DIR/lscgate.db
N=2000
HELD=200
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }

adm init >/dev/null
python3 -c "print('\n'.join('SEP%012X' % (0x200000 + i) for i in range($N)))" >"$WORK/names.txt"
adm device add --from "$WORK/names.txt" >/dev/null
adm op install --from "$WORK/names.txt" --key ec:p256 >/dev/null 2>&1
start_capf "$CAPF_DIR" --grace 1
expect_contains "$(head -5 "$CAPF_LOG")" "max_sessions=10000" "max_sessions defaults to 10 000"

# ---- 2 000 slow phones in session together ---------------------------------------------
expect_rc 0 "$N slow phones enrol at once" -- phone SEP000000200000 --count "$N" --concurrency "$N" \
    --keygen-delay 12 --keepalive-interval 1 --ramp 10 --timeout 120
expect_contains "$OUT" "succeeded=$N refused=0 failed=0" "every phone enrolled"
expect_eq "$(log_count "$CAPF_LOG" "result=succeeded")" "$N" "one log line per session"
expect_eq "$(log_count "$CAPF_LOG" "result=refused")" 0 "no connection refused"
expect_eq "$(sql "$DB" "SELECT count(*) FROM certificates WHERE status='active'")" "$N" "an active LSC per phone"
expect_eq "$(sql "$DB" "SELECT count(*) FROM capf_sessions WHERE result='succeeded'")" "$N" "a session row per phone"

# ---- one address stalling TLS handshakes holds its share of places, not all ------------
# 300 connections from 127.0.0.2, each sending the first bytes of a TLS record and
# then nothing: before, they held all 256 handshake places for handshake_timeout
# and a real phone waited them out (and failed).
cat >"$WORK/stall.py" <<'PY'
import socket, sys
held = []
for _ in range(int(sys.argv[2])):
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.connect(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"\x16\x03\x01\x02\x00\x01")  # a record header announcing 512 bytes, and one of them
    held.append(s)
print("held", len(held), flush=True)
sys.stdin.read()  # until the test closes our stdin or kills us
PY
mkfifo "$WORK/stall.in"
python3 "$WORK/stall.py" "$CAPF_PORT" 300 <"$WORK/stall.in" >"$WORK/stall.out" 2>&1 &
STALL_PID=$!
E2E_PIDS+=("$STALL_PID")
exec {stall_fd}>"$WORK/stall.in"
wait_log "$WORK/stall.out" "held 300"
adm device add SEP0000003000AA >/dev/null
adm op install SEP0000003000AA --key ec:p256 >/dev/null 2>&1
expect_rc 0 "a phone from another address enrols while 300 stalled handshakes are held" -- \
    phone SEP0000003000AA --timeout 60
# Held until handshake_timeout: each of them is turned away then, logged.
wait_log "$CAPF_LOG" "peer=127.0.0.2:" 300
expect_eq "$(grep -F "peer=127.0.0.2:" "$CAPF_LOG" | grep -cF 'cause="TLS handshake timed out')" 300 \
    "the 300 stalled handshakes time out"
# The phone was not held up by them: its session ended before the first of theirs.
first_stalled=$(grep -nF "peer=127.0.0.2:" "$CAPF_LOG" | awk -F: 'NR == 1 {print $1}')
phone_line=$(grep -nF "device=SEP0000003000AA" "$CAPF_LOG" | awk -F: 'NR == 1 {print $1}')
expect_eq "$([ "${phone_line:-999999}" -lt "$first_stalled" ] && echo before || echo after)" before \
    "the phone's session ended before the stalled ones (log lines $phone_line, $first_stalled)"
exec {stall_fd}>&-
wait "$STALL_PID" || true
expect_eq "$(log_count "$CAPF_LOG" "result=refused")" 0 "none of them refused at accept"

# ---- SIGTERM while $HELD phones generate their keys -------------------------------------
head -n "$HELD" "$WORK/names.txt" >"$WORK/held.txt"
adm op install --from "$WORK/held.txt" --key ec:p256 >/dev/null 2>&1
lines_before=$(grep -c "capf session=" "$CAPF_LOG")
phone SEP000000200000 --count "$HELD" --concurrency "$HELD" --keygen-delay 600 --keepalive-interval 5 \
    --timeout 120 >"$WORK/held.out" 2>&1 &
HELD_PID=$!
E2E_PIDS+=("$HELD_PID")
# Claimed (in-progress) once past authentication: KEY_GENERATE_REQUEST follows at once.
wait_until 120 "$HELD phones in key generation" -- \
    bash -c '[ "$(sqlite3 -readonly "$1" "SELECT count(*) FROM operations WHERE state='"'in-progress'"'")" -ge "$2" ]' _ "$DB" "$HELD"
# A phone that reconnects while its first session waits in key generation finds its
# operation held by that session: it is not run twice.
expect_rc 2 "the same phone again while its first session generates its key" -- \
    phone SEP000000200000 --timeout 60
wait_log "$CAPF_LOG" "device=SEP000000200000 mode=null op=install result=failed class=busy"
expect_contains "$(grep -F "device=SEP000000200000 mode=null op=install result=failed" "$CAPF_LOG")" \
    "is already in progress in another CAPF session" "refused as busy: the first session holds the operation"
# The point of the event loop: $HELD sessions waiting on their phones hold no thread
# (two pools of a worker per core, 2 to 16 each, and a few of the service's own).
workers=$(nproc); [ "$workers" -lt 2 ] && workers=2; [ "$workers" -gt 16 ] && workers=16
threads=$(awk '/^Threads:/ {print $2}' "/proc/$CAPF_PID/status")
expect_eq "$([ "$threads" -le $((2 * workers + 8)) ] && echo yes || echo "no: $threads")" yes \
    "$HELD sessions in key generation on few threads ($threads for $workers cores)"
kill -TERM "$CAPF_PID"
wait_log "$CAPF_LOG" "capf stopped"
expect_contains "$(cat "$CAPF_LOG")" "capf stopping: waiting up to 1s for $HELD session(s)" "SIGTERM waits the grace for the held sessions"
expect_eq "$(($(grep -c "capf session=" "$CAPF_LOG") - lines_before))" "$((HELD + 1))" "each aborted session is logged (and the busy one)"
expect_eq "$(log_count "$CAPF_LOG" "class=dropped-during-keygen")" "$HELD" "as dropped during key generation"
expect_eq "$(sql "$DB" "SELECT count(*) FROM operations WHERE state='pending'")" "$HELD" "their operations stay pending"
expect_eq "$(sql "$DB" "SELECT count(*) FROM capf_sessions WHERE cause_class='dropped-during-keygen'")" "$HELD" "a session row each, as dropped during key generation"
expect_eq "$(sql "$DB" "SELECT count(*) FROM certificates WHERE status<>'active'")" 0 "no LSC issued to them"
wait "$HELD_PID" || true
expect_contains "$(cat "$WORK/held.out")" "failed=$HELD" "the held phones saw the server go"

finish
