#!/usr/bin/env bash
# Moving a registry to PostgreSQL and back (`lscgate registry copy`): a SQLite
# registry written by the CLI and a real CAPF session (devices, an issued and a
# revoked LSC, a pending operation, the audit trail; CAPF sessions and a rollout
# written by SQL) is copied into a throwaway
# PostgreSQL cluster, then back into a fresh file, and the CLI shows the same
# devices, certificates, operations and audit; a second copy into the live
# target is refused; no password is ever printed. `lscgate init --database URI`
# creates the schema in PostgreSQL instead of lscgate.db.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pg_lib.sh"

CAPF_DIR=$WORK/capf
DB=$CAPF_DIR/lscgate.db
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }

# ---- a SQLite registry with every kind of row ----------------------------------
expect_rc 0 "init (SQLite)" -- "$LSCGATE" init --dir "$CAPF_DIR"
expect_rc 0 "add devices" -- adm device add SEP0011223344A1 SEP0011223344A2 SEP0011223344A3 --model 8845
start_capf "$CAPF_DIR"
for dev in SEP0011223344A1 SEP0011223344A2; do
    adm op install "$dev" --auth null >/dev/null
    expect_rc 0 "$dev enrols over CAPF" -- phone "$dev"
done
stop_capf
expect_rc 0 "revoke one LSC" -- adm revoke SEP0011223344A2 --reason key-compromise
expect_rc 0 "schedule a pending install" -- adm op install SEP0011223344A3 --auth null
# Fleet rows (schema version 4): recorded CAPF sessions and a rollout with its
# waves and devices, one wave scheduled (written as lscgate would, by SQL here).
sqlite3 "$DB" "
INSERT INTO capf_sessions(id, at, device, operation_id, operation, auth_mode, result, cause_class, cause, peer, serial, duration_ms)
  VALUES (7, 1700000001, 'SEP0011223344A1', 1, 'install', 'null', 'succeeded', '', '', '127.0.0.1:40000', '0A1B', 321),
         (8, 1700000002, '', NULL, '', '', 'closed', 'tls', 'handshake: \"unknown ca\"', '127.0.0.1:40001', '', 12);
INSERT INTO rollouts(id, name, kind, auth_mode, auth_secret, generate_strings, key_type, rsa_bits, ec_curve, by_seconds,
                     wave_size, waves, next_wave, created_at, created_by)
  VALUES (3, 'spring', 'install', 'string', '', 1, 'ec', 2048, 'p256', 86400, 2, 2, 2, 1700000100, 'cli:test');
INSERT INTO rollout_waves(rollout_id, wave, scheduled_at, completes_by) VALUES (3, 1, 1700000200, 1700086600), (3, 2, NULL, NULL);
INSERT INTO rollout_devices(rollout_id, position, wave, device, operation_id, skipped)
  VALUES (3, 0, 1, 'SEP0011223344A3', 3, ''), (3, 1, 1, 'SEP0011223344A1', NULL, 'has an open operation'),
         (3, 2, 2, 'SEP0011223344A2', NULL, '');
INSERT INTO web_accounts(id, name, role, password_hash, failed_logins, locked_until, created_at, updated_at)
  VALUES (4, 'alice', 'admin', '\$argon2id\$v=19\$m=65536,t=3,p=1\$c2FsdHNhbHQ\$aGFzaA', 5, 4102444800, 1700000300, 1700000400);
" || failed "writing fleet rows into the SQLite registry"
# What each engine holds of them, in one text form (times as Unix seconds, booleans 0/1).
FLEET_SQLITE="SELECT 's', id, at, device, coalesce(operation_id, 'NULL'), result, cause, duration_ms FROM capf_sessions
  UNION ALL SELECT 'r', id, name, generate_strings, coalesce(by_seconds, 'NULL'), next_wave, created_at, created_by FROM rollouts
  UNION ALL SELECT 'w', rollout_id, wave, coalesce(scheduled_at, 'NULL'), coalesce(completes_by, 'NULL'), '', '', '' FROM rollout_waves
  UNION ALL SELECT 'd', rollout_id, position, wave, device, coalesce(operation_id, 'NULL'), skipped, '' FROM rollout_devices
  UNION ALL SELECT 'a', id, name, role, password_hash, failed_logins, coalesce(locked_until, 'NULL'), updated_at FROM web_accounts
  ORDER BY 1, 2, 3"
FLEET_PG="SELECT 's', id::text, floor(extract(epoch FROM at))::bigint::text, device, coalesce(operation_id::text, 'NULL'), result, cause, duration_ms::text FROM lscgate.capf_sessions
  UNION ALL SELECT 'r', id::text, name, generate_strings::int::text, coalesce(by_seconds::text, 'NULL'), next_wave::text, floor(extract(epoch FROM created_at))::bigint::text, created_by FROM lscgate.rollouts
  UNION ALL SELECT 'w', rollout_id::text, wave::text, coalesce(floor(extract(epoch FROM scheduled_at))::bigint::text, 'NULL'), coalesce(floor(extract(epoch FROM completes_by))::bigint::text, 'NULL'), '', '', '' FROM lscgate.rollout_waves
  UNION ALL SELECT 'd', rollout_id::text, position::text, wave::text, device, coalesce(operation_id::text, 'NULL'), skipped, '' FROM lscgate.rollout_devices
  UNION ALL SELECT 'a', id::text, name, role, password_hash, failed_logins::text, coalesce(floor(extract(epoch FROM locked_until))::bigint::text, 'NULL'), floor(extract(epoch FROM updated_at))::bigint::text FROM lscgate.web_accounts
  ORDER BY 1, 2, 3"

snapshot() {  # snapshot DATABASE: what the CLI shows of a registry
    "$LSCGATE" --dir "$CAPF_DIR" --database "$1" device list --json
    "$LSCGATE" --dir "$CAPF_DIR" --database "$1" cert list --json
    "$LSCGATE" --dir "$CAPF_DIR" --database "$1" op list --all --json
    "$LSCGATE" --dir "$CAPF_DIR" --database "$1" audit --limit 100000 --json
}
snapshot "$DB" >"$WORK/before.json" || failed "snapshot of the SQLite registry"

# ---- SQLite -> PostgreSQL --------------------------------------------------------
pg_start
pg_setup_registry radius
PW=$PG_ISSUER_PASSWORD
expect_rc 0 "copy SQLite -> PostgreSQL" -- adm registry copy --to "$PG_ISSUER_URI"
expect_eq "$(grep -c '(same)' <<<"$OUT")" 10 "ten tables, each fingerprint the same on both sides"
expect_contains "$OUT" "rollout_devices" "the fleet tables are among them"
expect_contains "$OUT" "web_accounts" "and the web pages' accounts"
expect_not_contains "$OUT" "$PW" "the output never shows the password"
expect_contains "$OUT" "lscgate_issuer:***@" "the target is shown redacted"
expect_contains "$OUT" "Not copied: last_seen" "says what is not copied"
pg_count() { pg_psql -d "$PG_SUPERUSER dbname=radius" -At -c "SELECT count(*) FROM lscgate.$1"; }
expect_eq "$(pg_count devices)" "$(sql "$DB" 'SELECT count(*) FROM devices')" "devices in PostgreSQL"
expect_eq "$(pg_count certificates)" "$(sql "$DB" 'SELECT count(*) FROM certificates')" "certificates in PostgreSQL"
expect_eq "$(pg_count audit)" "$(sql "$DB" 'SELECT count(*) FROM audit')" "audit rows in PostgreSQL"
expect_eq "$(pg_psql -d "$PG_SUPERUSER dbname=radius" -At -c "$FLEET_PG")" "$(sql "$DB" "$FLEET_SQLITE")" \
    "CAPF sessions and the rollout with its waves and devices arrive as they were"
expect_eq "$(pg_psql -d "$PG_SUPERUSER dbname=radius" -At -c "SELECT status FROM lscgate.certificates c JOIN lscgate.devices d ON d.name = c.device_name WHERE d.name = 'SEP0011223344A2'")" \
    "revoked" "the revoked LSC is revoked in PostgreSQL"
expect_eq "$(pg_psql -d "$PG_SUPERUSER dbname=radius" -At -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM lscgate.devices")" \
    "$(sql "$DB" "SELECT group_concat(id, ',') FROM (SELECT id FROM devices ORDER BY id)")" "device ids preserved"
expect_eq "$(pg_psql -d "$PG_SUPERUSER dbname=radius" -At -c "SELECT floor(extract(epoch FROM min(at)))::bigint FROM lscgate.audit")" \
    "$(sql "$DB" 'SELECT min(at) FROM audit')" "audit timestamps preserved"

# The audit chain (issue 12 item 3) survives the copy: same rows, same head.
SQLITE_HEAD=$(sql "$DB" 'SELECT hash FROM audit ORDER BY id DESC LIMIT 1')
expect_rc 0 "audit verify on PostgreSQL after the copy, anchored at the SQLite head" -- \
    adm --database "$PG_ISSUER_URI" audit verify --anchor "$SQLITE_HEAD"
expect_contains "$OUT" "sha256 $SQLITE_HEAD" "the PostgreSQL chain ends at the SQLite head"

audit_before=$(pg_count audit)
expect_rc 1 "a second copy into the now live registry is refused" -- adm registry copy --to "$PG_ISSUER_URI"
expect_contains "$OUT" "not empty" "the refusal says why"
expect_not_contains "$OUT" "$PW" "the refusal never shows the password"
expect_eq "$(pg_count audit)" "$audit_before" "nothing was merged"
expect_rc 1 "a wrong password is refused without echoing it" -- \
    adm registry copy --from "$DB" --to "postgresql://lscgate_issuer:Wr0ngPw55@127.0.0.1:$PGPORT/radius"
expect_not_contains "$OUT" "Wr0ngPw55" "the wrong password is not printed either"

# ---- PostgreSQL -> a fresh SQLite file -------------------------------------------
expect_rc 0 "copy PostgreSQL -> a new SQLite file" -- adm registry copy --from "$PG_ISSUER_URI" --to "$WORK/back.db"
expect_eq "$(grep -c '(same)' <<<"$OUT")" 10 "ten tables verified on the way back"
expect_eq "$(sql "$WORK/back.db" "$FLEET_SQLITE")" "$(sql "$DB" "$FLEET_SQLITE")" "the fleet rows come back unchanged"
snapshot "$WORK/back.db" >"$WORK/after.json" || failed "snapshot of the copied-back registry"
if cmp -s "$WORK/before.json" "$WORK/after.json"; then
    pass "device list, cert list, op list and audit are identical after the round trip"
else
    failed "the round trip changed what the CLI shows"; { diff "$WORK/before.json" "$WORK/after.json" || true; } | sed -n '1,20p'
fi
expect_rc 0 "audit verify on the copied-back file" -- adm --database "$WORK/back.db" audit verify --anchor "$SQLITE_HEAD"

# Tampering on PostgreSQL: a superuser bypasses the append-only trigger
# (session_replication_role = replica); audit verify names the row.
pg_tamper() { pg_psql -d "$PG_SUPERUSER dbname=radius" -c "SET session_replication_role = replica; $1"; }
ORIGINAL_DETAIL=$(pg_psql -d "$PG_SUPERUSER dbname=radius" -At -c "SELECT detail FROM lscgate.audit WHERE id = 3")
pg_tamper "UPDATE lscgate.audit SET detail = 'edited' WHERE id = 3"
expect_rc 3 "an audit row edited with psql is caught" -- adm --database "$PG_ISSUER_URI" audit verify
expect_contains "$OUT" "BROKEN at row 3 (id 3)" "naming the row"
pg_tamper "UPDATE lscgate.audit SET detail = \$\$${ORIGINAL_DETAIL}\$\$ WHERE id = 3"
expect_rc 0 "put back as it was, the chain verifies again" -- adm --database "$PG_ISSUER_URI" audit verify
pg_tamper "DELETE FROM lscgate.audit WHERE id = 5"
expect_rc 3 "an audit row deleted with psql is caught" -- adm --database "$PG_ISSUER_URI" audit verify
expect_contains "$OUT" "BROKEN at row 5 (id 6)" "at the row after it"

expect_rc 1 "a malformed conninfo in LSCGATE_DATABASE is a config error" -- \
    env LSCGATE_DATABASE="host=127.0.0.1 password=$PW dbname" "$LSCGATE" --dir "$CAPF_DIR" device list
expect_contains "$OUT" "LSCGATE_DATABASE: not a valid PostgreSQL conninfo" "the error names the variable"
expect_not_contains "$OUT" "$PW" "and not the password"

# ---- lscgate init --database URI ------------------------------------------------
pg_setup_registry fresh
PW=$PG_ISSUER_PASSWORD
set +e
INIT_OUT=$("$LSCGATE" init --dir "$WORK/pg-capf" --database "$PG_ISSUER_URI" 2>&1)
INIT_RC=$?
set -e
expect_not_contains "$INIT_OUT" "$PW" "init never prints the password"
expect_eq "$(pg_psql -d "$PG_SUPERUSER dbname=fresh" -At -c "SELECT max(version) FROM lscgate.schema_version")" \
    "$("$PG_BIN/psql" -X -At -d "$PG_SUPERUSER dbname=radius" -c "SELECT max(version) FROM lscgate.schema_version")" \
    "init --database created the registry schema in PostgreSQL"
[ ! -e "$WORK/pg-capf/lscgate.db" ] && pass "no lscgate.db was created" || failed "init created lscgate.db beside a PostgreSQL registry"
expect_contains "$(cat "$WORK/pg-capf/lscgate.toml")" "$PG_ISSUER_URI" "lscgate.toml names the PostgreSQL registry"
expect_eq "$(stat -c %a "$WORK/pg-capf/lscgate.toml")" 600 "lscgate.toml holding a password is 0600"
expect_eq "$INIT_RC" 0 "init --database succeeded"
expect_contains "$INIT_OUT" "lscgate_issuer:***@" "init's summary shows the database redacted"
expect_eq "$(pg_psql -d "$PG_SUPERUSER dbname=fresh" -At -c "SELECT count(*) FROM lscgate.capf_certificates WHERE status = 'current'")" \
    1 "the CAPF certificate is recorded in PostgreSQL"

finish
