#!/usr/bin/env bash
# The CAPF session history (issue 10 item 4): lscgate serve records each session
# in the registry before its log line (class, cause, peer, operation), and
# `lscgate capf sessions` lists them newest first; [capf] session_history bounds
# the table (3 here: after 5 recorded sessions exactly 3 rows remain). A
# connection that never gets past TLS is logged but not recorded; a row that
# cannot be written never fails the session.
source "$(dirname "$0")/lib.sh"

CAPF_DIR=$WORK/capf
DB=$CAPF_DIR/lscgate.db
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }
jv() { python3 -c 'import json,sys; d=json.load(sys.stdin); v=eval(sys.argv[1]); print("" if v is None else v)' "$1"; }
# peer_of NAME: the peer= of the newest log line of that device's sessions
peer_of() { grep "device=$1 " "$CAPF_LOG" | tail -1 | sed -n 's/.* peer=\([^ ]*\) .*/\1/p'; }

adm init >/dev/null
sed -i 's/^session_history = .*/session_history = 3  # a small bound to watch/' "$CAPF_DIR/lscgate.toml"
adm device add SEP0000000030A1 SEP0000000030A2 >/dev/null
adm op install SEP0000000030A1 --auth string:13572468 >/dev/null 2>&1
op_id=$(sql "$DB" "SELECT o.id FROM operations o JOIN devices d ON d.id = o.device_id WHERE d.name='SEP0000000030A1'")
start_capf "$CAPF_DIR"
expect_rc 0 "no session yet: an empty JSON array" -- adm capf sessions --json
expect_eq "$OUT" "[]" "an empty table lists as []"

# 1: a wrong string, recorded before the log line is written.
expect_rc 2 "a wrong authentication string is rejected" -- phone SEP0000000030A1 --auth-string 11111111
wait_log "$CAPF_LOG" "device=SEP0000000030A1 "
expect_contains "$(grep 'device=SEP0000000030A1 ' "$CAPF_LOG")" "result=rejected class=wrong-string end=7" "the log line names the class after the result"
expect_rc 0 "capf sessions --json" -- adm capf sessions --json
JSON=$OUT
expect_eq "$(jv 'len(d)' <<<"$JSON")" 1 "one session recorded"
expect_eq "$(jv 'd[0]["device"]' <<<"$JSON")" SEP0000000030A1 "its device"
expect_eq "$(jv 'd[0]["result"]' <<<"$JSON")" rejected "its result"
expect_eq "$(jv 'd[0]["class"]' <<<"$JSON")" wrong-string "its class"
expect_contains "$(jv 'd[0]["cause"]' <<<"$JSON")" "wrong authentication string" "its cause"
expect_eq "$(jv 'd[0]["operation"]' <<<"$JSON")" install "its operation"
expect_eq "$(jv 'd[0]["auth_mode"]' <<<"$JSON")" string "its auth mode"
expect_eq "$(jv 'd[0]["operation_id"]' <<<"$JSON")" "$op_id" "its operation id"
expect_eq "$(jv 'd[0]["peer"]' <<<"$JSON")" "$(peer_of SEP0000000030A1)" "its peer, as the log line names it"
expect_contains "$(jv 'd[0]["peer"]' <<<"$JSON")" "127.0.0.1:" "the peer is the phone's address:port"
expect_not_contains "$(sql "$DB" "SELECT group_concat(cause) FROM capf_sessions")" "11111111" "the string typed is never recorded"

# 2: an unknown device.  3: a connection that never finishes TLS (not recorded).
expect_rc 2 "an unknown device" -- phone SEP0000000030FF
wait_log "$CAPF_LOG" "device=SEP0000000030FF "
python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.sendall(b"GET / HTTP/1.0\r\n\r\n"); s.recv(100)' "$CAPF_PORT" || true
wait_log "$CAPF_LOG" "result=closed class=connection"
expect_eq "$(sql "$DB" "SELECT count(*) FROM capf_sessions")" 2 "the TLS failure is not recorded"

# 3: the right string: succeeded, no class, the LSC's serial.
expect_rc 0 "the right string enrols" -- phone SEP0000000030A1 --auth-string 13572468
wait_log "$CAPF_LOG" "device=SEP0000000030A1 " 2
expect_rc 0 "capf sessions --device --limit 1 --json" -- adm capf sessions --device sep0000000030a1 --limit 1 --json
expect_eq "$(jv 'len(d)' <<<"$OUT")" 1 "--limit 1: one row"
expect_eq "$(jv 'd[0]["result"] + "|" + d[0]["class"]' <<<"$OUT")" "succeeded|" "the newest first: succeeded, no class"
expect_eq "$(jv 'd[0]["serial"]' <<<"$OUT")" "$(sql "$DB" "SELECT serial FROM certificates WHERE device_name='SEP0000000030A1' AND status='active'")" "with the LSC's serial"

# 4, 5: nothing scheduled for either device any more.
phone SEP0000000030A1 >/dev/null 2>&1 || true
wait_log "$CAPF_LOG" "device=SEP0000000030A1 " 3
phone SEP0000000030A2 >/dev/null 2>&1 || true
wait_log "$CAPF_LOG" "device=SEP0000000030A2 "
expect_contains "$(grep 'device=SEP0000000030A2 ' "$CAPF_LOG")" "result=no-operation class=no-operation end=0" "no operation: its class in the log"

# The bound: 5 sessions recorded, the newest 3 kept.
expect_eq "$(sql "$DB" "SELECT count(*) FROM capf_sessions")" 3 "session_history = 3: exactly 3 rows remain"
expect_rc 0 "capf sessions --limit 0 --json (every row kept)" -- adm capf sessions --limit 0 --json
expect_eq "$(jv '",".join(s["class"] or "-" for s in d)' <<<"$OUT")" "no-operation,no-operation,-" "newest first: no-operation x2, then the success"
expect_rc 0 "capf sessions (text)" -- adm capf sessions
expect_contains "$(head -1 <<<"$OUT")" "TIME                 DEVICE          OP      MODE       RESULT         CLASS" "text: the columns"
expect_contains "$OUT" "SEP0000000030A2" "text: the rows"
expect_eq "$(wc -l <<<"$OUT")" 4 "text: a header and 3 rows"
expect_rc 1 "a bad --since is refused" -- adm capf sessions --since yesterday
expect_rc 0 "--since -1h keeps them all" -- adm capf sessions --since -1h --json
expect_eq "$(jv 'len(d)' <<<"$OUT")" 3 "--since -1h: 3 rows"
expect_rc 0 "--since +1h (in the future) keeps none" -- adm capf sessions --since +1h --json
expect_eq "$OUT" "[]" "--since in the future: none"

# A session whose row cannot be written still succeeds; its log line says so.
sqlite3 "$DB" "ALTER TABLE capf_sessions RENAME TO capf_sessions_away"
adm op install SEP0000000030A2 --auth null >/dev/null 2>&1
expect_rc 0 "a session that cannot be recorded still enrols" -- phone SEP0000000030A2
wait_log "$CAPF_LOG" "device=SEP0000000030A2 " 2
expect_contains "$(grep 'device=SEP0000000030A2 ' "$CAPF_LOG" | tail -1)" "result=succeeded" "the session succeeded"
expect_contains "$(grep 'device=SEP0000000030A2 ' "$CAPF_LOG" | tail -1)" "session not recorded: " "its note says it was not recorded"
sqlite3 "$DB" "ALTER TABLE capf_sessions_away RENAME TO capf_sessions"
expect_eq "$(sql "$DB" "SELECT count(*) FROM capf_sessions")" 3 "the table is as it was"

stop_capf
finish
