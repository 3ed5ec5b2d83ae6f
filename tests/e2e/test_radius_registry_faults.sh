#!/usr/bin/env bash
# A real FreeRADIUS with rlm_lscgate while the registry file changes under it
# (issue 7, items 1 and 2), each time without a HUP:
#   - lscgate.db-wal/-shm deleted, then `lscgate revoke`: the revocation counts
#     at the next request (the module reopens the files the path now names);
#   - a backup in which a device is revoked moved over lscgate.db: refused at the
#     next request (the old file's -wal/-shm are still there, so nothing the file
#     says can be trusted), logged once; once those are gone, read and obeyed;
#   - lscgate.db cut to half its size: the server survives (no SIGBUS: the file is
#     never memory-mapped) and answers Access-Reject, logging the cause.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/radius_lib.sh"
require_radius_prerequisites

CAPF_DIR=$WORK/capf
DB=$CAPF_DIR/lscgate.db
A=SEP0000000009A1
B=SEP0000000009A2
C=SEP0000000009A3
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }

# wait_fr_log PATTERN: until the FreeRADIUS log has a line matching PATTERN (bounded: 10 s).
wait_fr_log() {
    for _ in $(seq 1 300); do grep -q -- "$1" "$LOG" && return 0; sleep 0.1; done
    return 1
}
# as_lab_file FILE: the ownership and mode radius-lab gives the registry (freerad reads only).
as_lab_file() { chgrp freerad "$1" && chmod 640 "$1"; }

"$LSCGATE" init --dir "$CAPF_DIR" >/dev/null
adm device add "$A" "$B" "$C" >/dev/null
adm op install "$A" "$B" "$C" --auth null --key ec:p256 >/dev/null 2>&1
start_capf "$CAPF_DIR"
for d in "$A" "$B" "$C"; do expect_rc 0 "$d enrols" -- phone "$d"; done
stop_capf  # the registry's writer is the CLI from here on
# serve closed last: everything is in lscgate.db (deleting -wal below loses nothing);
# the WAL is persistent, kept empty for readers that may not create it.
expect_rc 0 "serve checkpointed lscgate.db-wal on exit and kept it, empty" -- test -e "$DB-wal" -a ! -s "$DB-wal"

start_lab "$WORK/lab" "$CAPF_DIR"
for d in "$A" "$B" "$C"; do
    expect_rc 0 "VPN request for $d is accepted" -- vpn "$d"
done
expect_rc 0 "the module holds lscgate.db-wal/-shm open" -- test -e "$DB-wal" -a -e "$DB-shm"

# ---- -wal/-shm deleted, then a revocation ---------------------------------------------------------
rm -f "$DB-wal" "$DB-shm"
expect_rc 0 "lscgate revoke $A after deleting -wal/-shm" -- adm revoke "$A" --reason key-compromise
expect_failure "VPN request for the revoked $A is rejected at the next request (no HUP)" -- vpn "$A"
expect_contains "$OUT" "Received Access-Reject" "Access-Reject for $A"
expect_rc 0 "$B is still accepted (the module reads the new files)" -- vpn "$B"
expect_contains "$(grep 'rlm_lscgate: registry' "$LOG")" "-wal file was deleted" "logged: the -wal file was deleted"
expect_contains "$(grep 'rlm_lscgate: registry' "$LOG")" "reopened" "logged: reopened"
expect_rc 0 "lscgate revoke $C (a later revocation)" -- adm revoke "$C"
expect_failure "VPN request for $C is rejected" -- vpn "$C"
expect_eq "$(grep -c 'rlm_lscgate: registry' "$LOG")" 1 "the change was logged once"

# ---- a backup with B revoked moved over lscgate.db ----------------------------------------------
mkdir -p "$WORK/copy"
cp "$CAPF_DIR/lscgate.toml" "$CAPF_DIR/capf.crt" "$CAPF_DIR/capf.key" "$WORK/copy/"
expect_rc 0 "back up the registry (sqlite3 .backup)" -- sqlite3 "$DB" ".backup $WORK/copy/lscgate.db"
expect_rc 0 "revoke $B in the backup" -- "$LSCGATE" --dir "$WORK/copy" revoke "$B"
as_lab_file "$WORK/copy/lscgate.db"
mv "$WORK/copy/lscgate.db" "$DB"
expect_failure "after the move: $B is refused at the next request (no HUP)" -- vpn "$B"
expect_contains "$OUT" "Received Access-Reject" "Access-Reject for $B"
if wait_fr_log "rlm_lscgate: registry .*was replaced"; then pass "logged: the registry file was replaced"
else failed "no 'was replaced' line in the FreeRADIUS log"; fi
expect_contains "$(grep 'was replaced' "$LOG")" "refusing every request" "logged: refusing until the files change"
# The old file's companions go (everything that had the old file open let go of it),
# and the next lscgate command makes the new file's (freerad may create nothing here).
rm -f "$DB-wal" "$DB-shm"
adm device list >/dev/null
expect_eq "$(stat -c '%G %a' "$DB-wal" "$DB-shm" | sort -u)" "freerad 640" "new -wal/-shm: the database file's group and mode"
expect_failure "the backup is read: $B is revoked there" -- vpn "$B"
expect_contains "$(grep "$B" "$LOG" | tail -1)" "lsc-revoked" "rejected as lsc-revoked, not as an error"
expect_failure "$A (revoked before the backup) stays refused" -- vpn "$A"
expect_eq "$(kill -0 "$FR_PID" && echo running)" running "same FreeRADIUS process"

# ---- lscgate.db cut to half its size ---------------------------------------------------------------
adm device add SEP0000000009A4 >/dev/null  # a commit, as in the report
size=$(stat -c %s "$DB")
truncate -s $((size / 2)) "$DB"
expect_failure "after truncate: a request is rejected" -- vpn "$B"
expect_contains "$OUT" "Received Access-Reject" "FreeRADIUS answered Access-Reject"
expect_failure "and the next one too" -- vpn "$B"
expect_contains "$OUT" "Received Access-Reject" "answered again"
expect_eq "$(kill -0 "$FR_PID" 2>/dev/null && echo running || echo dead)" running "FreeRADIUS survived the truncated registry"
expect_not_contains "$(cat "$LOG")" "Bus error" "no bus error"
if wait_fr_log "rlm_lscgate: registry .*shrank"; then pass "logged: the registry file shrank"
else failed "no 'shrank' line in the FreeRADIUS log"; fi
# The refusal names the damage: "cut short" from the header check, or, while a WAL
# may still hold the missing pages (an interrupted checkpoint looks the same), the
# read error SQLite reports for a page in neither.
if grep -qE "cut short|disk image is malformed" "$LOG"; then pass "the refusal names the damaged file"
else failed "no 'cut short' / 'malformed' cause in the FreeRADIUS log"; fi
stop_lab "$WORK/lab"

finish
