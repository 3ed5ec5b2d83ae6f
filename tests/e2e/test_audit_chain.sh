#!/usr/bin/env bash
# The tamper-evident audit trail (issue 12 item 3) on a SQLite registry: the
# CLI writes a trail, `lscgate audit verify` finds it intact; then each kind of
# tampering done with the sqlite3 CLI (the append-only triggers dropped, as
# anyone holding the file can) on its own copy of the registry — an edited,
# deleted, reordered row, a row inserted at the end and one inserted in the
# middle with a hash computed by sha256sum from the documented canonical text —
# is caught by `audit verify` (exit 3) naming the row. `audit export --json`
# carries every row with its hashes.
source "$(dirname "$0")/lib.sh"

CAPF_DIR=$WORK/capf
DB=$CAPF_DIR/lscgate.db
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }

expect_rc 0 "init" -- "$LSCGATE" init --dir "$CAPF_DIR"
expect_rc 0 "add devices" -- adm device add SEP0011223344B1 SEP0011223344B2 SEP0011223344B3 --model 8845
expect_rc 0 "schedule an install" -- adm op install SEP0011223344B1 --auth null
expect_rc 0 "cancel it" -- adm op cancel SEP0011223344B1
expect_rc 0 "remove a device" -- adm device remove SEP0011223344B3
ROWS=$(sql "$DB" 'SELECT count(*) FROM audit')
HEAD=$(sql "$DB" 'SELECT hash FROM audit ORDER BY id DESC LIMIT 1')
[ "$ROWS" -ge 6 ] && pass "the trail has $ROWS rows" || failed "only $ROWS audit rows"

expect_rc 0 "audit verify on the untouched trail" -- adm audit verify
expect_contains "$OUT" "audit chain intact: $ROWS rows, head id $ROWS sha256 $HEAD" "verify prints the rows and the head"
expect_rc 0 "audit verify --anchor with the head" -- adm audit verify --anchor "$HEAD"
expect_rc 1 "a malformed anchor is refused" -- adm audit verify --anchor nothex
expect_contains "$OUT" "64 lower-case hex digits" "and says what it wants"

# ---- export ---------------------------------------------------------------------
expect_rc 0 "audit export --json" -- adm audit export --json
cat >"$WORK/check_export.py" <<'PY'
import json, sys
rows = json.load(sys.stdin)
assert len(rows) == int(sys.argv[1]), len(rows)
assert rows[0]["prev_hash"] == "0" * 64
for a, b in zip(rows, rows[1:]):
    assert b["prev_hash"] == a["hash"] and b["id"] > a["id"], (a, b)
assert rows[-1]["hash"] == sys.argv[2]
assert set(rows[0]) == {"id", "at", "at_unix", "actor", "action", "device", "detail", "prev_hash", "hash"}, rows[0]
PY
if python3 "$WORK/check_export.py" "$ROWS" "$HEAD" <<<"$OUT" >"$WORK/export.check" 2>&1; then
    pass "export: one JSON array, every row with both hashes, chained from the genesis to the head"
else
    failed "export JSON"; cat "$WORK/export.check"
fi
expect_rc 0 "audit export --lines --after 2" -- adm audit export --lines --after 2
expect_eq "$(grep -c '"hash":' <<<"$OUT")" "$((ROWS - 2))" "JSON Lines: one object per row after id 2"

# ---- tampering, each on its own copy ----------------------------------------------
# tampered NAME SQL: a copy of the registry (sqlite3 .backup) with SQL applied by the sqlite3 CLI.
tampered() {
    sqlite3 "$DB" ".backup '$WORK/$1.db'"
    sqlite3 "$WORK/$1.db" "$2"
}
verify_copy() { "$LSCGATE" --dir "$CAPF_DIR" --database "$WORK/$1.db" audit verify "${@:2}"; }

sqlite3 "$DB" ".backup '$WORK/guarded.db'"
set +e
GUARD=$(sqlite3 "$WORK/guarded.db" "UPDATE audit SET detail = 'x' WHERE id = 3" 2>&1)
set -e
expect_contains "$GUARD" "audit is append-only" "the triggers refuse an UPDATE as long as they exist"

tampered edited "DROP TRIGGER audit_no_update; UPDATE audit SET detail = 'model=7811' WHERE id = 3"
expect_rc 3 "an edited row is caught" -- verify_copy edited
expect_contains "$OUT" "BROKEN at row 3 (id 3)" "naming the row"
expect_contains "$OUT" "edited" "and saying it was edited"
expect_rc 3 "verify --json on a broken chain" -- verify_copy edited --json
expect_eq "$(python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["intact"], j["broken"]["row"], j["broken"]["id"])' <<<"$OUT")" \
    "False 3 3" "the JSON names the row too"

tampered deleted "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE id = 3"
expect_rc 3 "a deleted row is caught" -- verify_copy deleted
expect_contains "$OUT" "BROKEN at row 3 (id 4)" "at the row that followed it"
expect_contains "$OUT" "deleted, inserted or reordered" "saying a row went missing before it"

tampered reordered "DROP TRIGGER audit_no_update; UPDATE audit SET id = -3 WHERE id = 3;
                    UPDATE audit SET id = 3 WHERE id = 4; UPDATE audit SET id = 4 WHERE id = -3"
expect_rc 3 "two swapped rows are caught" -- verify_copy reordered
expect_contains "$OUT" "BROKEN at row 3 (id 3)" "naming the first of them"

tampered appended "INSERT INTO audit(at, actor, action, device) VALUES (strftime('%s','now'), 'intruder', 'device.add', 'SEP0000000000FF')"
expect_rc 3 "a row inserted at the end with plain SQL is caught" -- verify_copy appended
expect_contains "$OUT" "BROKEN at row $((ROWS + 1)) (id $((ROWS + 1)))" "naming it"
expect_contains "$OUT" "inserted behind lscgate's back" "as inserted"

# In the middle, with a hash that is right for the forged row: computed from the
# README's canonical text with printf and sha256sum (so the documented format is
# the implemented one). Rows 3.. move up by one; the row after the forged one breaks.
PREV2=$(sql "$DB" 'SELECT hash FROM audit WHERE id = 2')
TEXT=$(printf 'lscgate-audit-v1\nprev:%s\nid:3\nat:1700000000\nactor:8:intruder\naction:10:device.add\ndevice:15:SEP0000000000FF\ndetail:0:\n_' "$PREV2")
FORGED=$(printf '%s' "${TEXT%_}" | sha256sum | cut -d' ' -f1)
tampered inserted "DROP TRIGGER audit_no_update; UPDATE audit SET id = id + 1000 WHERE id >= 3;
                   UPDATE audit SET id = id - 999 WHERE id >= 1000;
                   INSERT INTO audit(id, at, actor, action, device, detail, prev_hash, hash)
                   VALUES (3, 1700000000, 'intruder', 'device.add', 'SEP0000000000FF', '', '$PREV2', '$FORGED')"
expect_rc 3 "a row inserted in the middle with a correct hash of its own is caught" -- verify_copy inserted
expect_contains "$OUT" "BROKEN at row 4 (id 4)" "at the row after it (row 3 itself hashes right: the format is as documented)"

# Rows deleted from the end leave a valid chain: only an anchor recorded earlier tells.
tampered truncated "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE id = $ROWS"
expect_rc 0 "a trail cut at the end still chains" -- verify_copy truncated
expect_rc 3 "but not to the recorded head" -- verify_copy truncated --anchor "$HEAD"
expect_contains "$OUT" "deleted from the end" "verify --anchor says so"

# The untouched original is still intact.
expect_rc 0 "the original registry is untouched" -- adm audit verify

finish
