# A throwaway PostgreSQL cluster for end-to-end tests. Source after lib.sh:
#
#   source "$(dirname "$0")/lib.sh"
#   source "$(dirname "$0")/pg_lib.sh"
#   pg_start                      # initdb + start; exports PGPORT, PGHOST, PG_SUPERUSER
#   pg_setup_registry radius      # database + setup.sql; exports PG_ISSUER_URI, PG_RADIUS_URI
#   ... pg_restart / pg_stop ...  # the cluster is stopped on exit in any case
#
# The cluster lives in $WORK/pg, is initialised and run as the `postgres` OS
# user when the test runs as root (the server refuses to run as root), listens
# on 127.0.0.1 only, on a free port, with its Unix socket in its own directory
# (never /var/run/postgresql). Local socket connections are trusted (the
# superuser's way in); TCP connections need a password (scram-sha-256), like a
# production registry. Durability is off (fsync=off): a test cluster is thrown
# away. Stopped by the postmaster's PID (postmaster.pid), never by name.

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PG_ROOT="$WORK/pg"
PG_DATA="$PG_ROOT/data"
# The Unix socket's path must fit sockaddr_un (107 bytes), so it never lives under
# $WORK (a CI checkout's build tree can be deep): a short directory of its own in
# /tmp, made by pg_start and removed with $WORK by lib.sh's e2e_cleanup.
PG_SOCKET_DIR=
PG_LOG="$PG_ROOT/postgresql.log"
PG_ISSUER_PASSWORD="issuer-$RANDOM$RANDOM"
PG_RADIUS_PASSWORD="radius-$RANDOM$RANDOM"

# Runs a PostgreSQL server program as the cluster's owner.
pg_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_postmaster_pid: the PID in postmaster.pid (empty when the server is not running).
pg_postmaster_pid() { head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null || true; }

pg_ready() { "$PG_BIN/pg_isready" -q -h "$PG_SOCKET_DIR" -p "$PGPORT" -d postgres -U postgres; }

# pg_launch: starts the server on $PGPORT and waits (bounded) until it accepts
# connections. Returns 1 when it exits first (e.g. the port was taken meanwhile).
pg_launch() {
    : >"$PG_LOG"
    chown postgres "$PG_LOG" 2>/dev/null || true
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -W \
        -o "-k $PG_SOCKET_DIR -h 127.0.0.1 -p $PGPORT -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null
    local deadline=$((SECONDS + 60))
    until pg_ready; do
        if grep -qE 'could not (bind|create any TCP/IP sockets|create lock file)|database system is shut down' "$PG_LOG" 2>/dev/null; then
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "pg_launch: PostgreSQL not ready within 60s; log:" >&2
            cat "$PG_LOG" >&2
            return 1
        fi
        sleep 0.05
    done
}

# pg_start: a new cluster (initdb), started on a free port. Exports PGPORT,
# PGHOST (the socket directory) and PG_SUPERUSER (a conninfo for `postgres`).
pg_start() {
    [ -x "$PG_BIN/initdb" ] || { failed "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (scripts/setup)"; return 1; }
    # mktemp -d made $WORK private; the server's user must be able to reach its directory.
    chmod o+x "$WORK"
    mkdir -p "$PG_ROOT"
    PG_SOCKET_DIR=$(mktemp -d /tmp/lscgate-pgsock.XXXXXX) || { failed "mktemp in /tmp"; return 1; }
    E2E_DIRS+=("$PG_SOCKET_DIR")
    chown postgres "$PG_ROOT" "$PG_SOCKET_DIR" 2>/dev/null || true
    pg_as_owner "$PG_BIN/initdb" -N -D "$PG_DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C >"$PG_ROOT/initdb.log" 2>&1 || { cat "$PG_ROOT/initdb.log" >&2; failed "initdb"; return 1; }
    local attempt
    for attempt in 1 2 3; do
        PGPORT=$(free_port)
        if pg_launch; then
            export PGPORT PGHOST="$PG_SOCKET_DIR"
            export PG_SUPERUSER="host=$PG_SOCKET_DIR port=$PGPORT user=postgres dbname=postgres"
            return 0
        fi
        pg_stop
    done
    failed "PostgreSQL did not start (3 ports tried); log: $(tail -n 5 "$PG_LOG")"
    return 1
}

# pg_stop: fast shutdown (SIGINT to the postmaster), waits (bounded) for it to exit.
pg_stop() {
    local pid
    pid=$(pg_postmaster_pid)
    [ -n "$pid" ] || return 0
    kill -INT "$pid" 2>/dev/null || return 0
    local deadline=$((SECONDS + 60))
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            kill -QUIT "$pid" 2>/dev/null || true  # immediate shutdown: also ends its children
            break
        fi
        sleep 0.05
    done
}

# pg_restart: stop, then start the same cluster on the same port (an outage and a recovery).
pg_restart() {
    pg_stop
    pg_launch || { failed "PostgreSQL did not restart on port $PGPORT"; return 1; }
}

# pg_psql [psql args...]: psql as the superuser over the socket, stopping at the first error.
pg_psql() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$PG_SUPERUSER" "$@"; }

# pg_setup_registry DATABASE: creates DATABASE and runs policy/postgresql/setup.sql in it,
# as a DBA would. Exports PG_ISSUER_URI and PG_RADIUS_URI (TCP, password auth).
pg_setup_registry() {
    local db=$1
    local here
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    pg_psql -c "CREATE DATABASE \"$db\"" || { failed "CREATE DATABASE $db"; return 1; }
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "host=$PG_SOCKET_DIR port=$PGPORT user=postgres dbname=$db" \
        -v issuer_password="$PG_ISSUER_PASSWORD" -v radius_password="$PG_RADIUS_PASSWORD" \
        -f "$here/../../policy/postgresql/setup.sql" || { failed "setup.sql in $db"; return 1; }
    export PG_ISSUER_URI="postgresql://lscgate_issuer:$PG_ISSUER_PASSWORD@127.0.0.1:$PGPORT/$db"
    export PG_RADIUS_URI="postgresql://lscgate_radius:$PG_RADIUS_PASSWORD@127.0.0.1:$PGPORT/$db"
}

# The cluster stops before lib.sh removes $WORK.
trap 'pg_stop; e2e_cleanup' EXIT
