#!/usr/bin/env bash
# The PostgreSQL test harness itself (tests/e2e/pg_lib.sh): a throwaway cluster
# starts on 127.0.0.1, policy/postgresql/setup.sql makes the two roles, TCP needs
# their passwords, a restart keeps the data, and stopping leaves no server behind.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pg_lib.sh"

pg_start
pass "cluster started on 127.0.0.1:$PGPORT"
pg_setup_registry radius

roles=$(pg_psql -At -c "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolname LIKE 'lscgate_%'")
expect_eq "$roles" "lscgate_issuer,lscgate_radius" "setup.sql created both roles"
owner=$(pg_psql -d "$PG_SUPERUSER dbname=radius" -At -c "SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'lscgate'")
expect_eq "$owner" "lscgate_issuer" "the schema lscgate belongs to the issuer"

expect_rc 0 "the issuer connects over TCP with its password" -- \
    "$PG_BIN/psql" -X -At -d "$PG_ISSUER_URI" -c "CREATE TABLE lscgate.probe(x int); INSERT INTO lscgate.probe VALUES (7)"
expect_failure "a wrong password is refused over TCP" -- \
    "$PG_BIN/psql" -X -At -d "postgresql://lscgate_radius:wrong@127.0.0.1:$PGPORT/radius" -c "SELECT 1"
expect_failure "the radius role reads nothing it was not granted" -- \
    "$PG_BIN/psql" -X -At -d "$PG_RADIUS_URI" -c "SELECT x FROM lscgate.probe"
expect_failure "the radius role creates nothing in the schema" -- \
    "$PG_BIN/psql" -X -At -d "$PG_RADIUS_URI" -c "CREATE TABLE lscgate.intruder(x int)"
expect_failure "setup.sql without passwords stops with an error" -- \
    "$PG_BIN/psql" -X -q -d "$PG_SUPERUSER dbname=radius" -f "$(dirname "$0")/../../policy/postgresql/setup.sql"

old_pid=$(pg_postmaster_pid)
pg_restart
new_pid=$(pg_postmaster_pid)
[ -n "$new_pid" ] && [ "$new_pid" != "$old_pid" ] && pass "restarted (postmaster $old_pid -> $new_pid)" || failed "restart: pid $old_pid -> $new_pid"
expect_rc 0 "data survives the restart" -- "$PG_BIN/psql" -X -At -d "$PG_ISSUER_URI" -c "SELECT x FROM lscgate.probe"
expect_eq "$OUT" "7" "the row written before the restart"

pg_stop
if kill -0 "$new_pid" 2>/dev/null; then failed "postmaster $new_pid still running after pg_stop"; else pass "postmaster $new_pid stopped"; fi
expect_failure "nothing answers on the port any more" -- pg_ready

finish
