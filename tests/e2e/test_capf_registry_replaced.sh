#!/usr/bin/env bash
# lscgate serve when its registry file is replaced under it (a backup moved over
# lscgate.db, or the -wal/-shm companions deleted): it must not go on recording
# LSCs into a file nobody else reads. It refuses CAPF sessions (END_SESSION(7)
# before authentication, nothing issued) until restarted, and names the cause.
source "$(dirname "$0")/lib.sh"

CAPF_DIR=$WORK/capf
DB=$CAPF_DIR/lscgate.db
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }
"$LSCGATE" init --dir "$CAPF_DIR" >/dev/null
adm device add SEP0000000000D1 SEP0000000000D2 SEP0000000000D3 >/dev/null
lscs() { sql "$DB" "SELECT count(*) FROM certificates WHERE device_name='$1' AND kind='lsc'"; }

# ---- a backup moved over the live file -------------------------------------------
start_capf "$CAPF_DIR"
adm op install SEP0000000000D1 --key ec:p256 >/dev/null 2>&1
expect_rc 0 "a phone enrolls before the file is replaced" -- phone SEP0000000000D1
adm op install SEP0000000000D2 --key ec:p256 >/dev/null 2>&1
sqlite3 "$DB" ".backup '$WORK/backup.db'"   # D1 enrolled, D2 pending
mv "$WORK/backup.db" "$DB"
expect_rc 1 "after the move: the session is refused" -- phone SEP0000000000D2
expect_contains "$OUT" "server opened with END_SESSION" "with END_SESSION(7) before authentication"
wait_log "$CAPF_LOG" "until lscgate serve is restarted" && pass "the log names the cause and the fix"
expect_eq "$(lscs SEP0000000000D2)" 0 "no LSC recorded anywhere for the refused phone"
expect_eq "$(kill -0 "$CAPF_PID" 2>/dev/null && echo running)" running "serve keeps running (and refusing)"
stop_capf
start_capf "$CAPF_DIR"
adm op install SEP0000000000D2 --key ec:p256 >/dev/null 2>&1
expect_rc 0 "after a restart the phone enrolls into the restored file" -- phone SEP0000000000D2
expect_eq "$(sql "$DB" "SELECT count(*) FROM certificates WHERE device_name='SEP0000000000D2' AND status='active'")" 1 \
    "its LSC is active in the file the path names"

# ---- -wal/-shm deleted under a running serve ---------------------------------------
adm op install SEP0000000000D3 --key ec:p256 >/dev/null 2>&1
rm -f "$DB-wal" "$DB-shm"
expect_rc 1 "after -wal/-shm were deleted: the session is refused" -- phone SEP0000000000D3
wait_log "$CAPF_LOG" "until lscgate serve is restarted" && pass "logged with the cause"
expect_eq "$(lscs SEP0000000000D3)" 0 "no LSC recorded for D3"
stop_capf
# Deleting the WAL threw away what it held that was not yet in lscgate.db (the
# admin's doing): schedule D3 again.
start_capf "$CAPF_DIR"
adm op install SEP0000000000D3 --key ec:p256 >/dev/null 2>&1
expect_rc 0 "after a restart D3 enrolls" -- phone SEP0000000000D3
expect_eq "$(sql "$DB" "SELECT count(*) FROM certificates WHERE device_name='SEP0000000000D3' AND status='active'")" 1 \
    "D3's LSC is active in the registry"
stop_capf

finish
