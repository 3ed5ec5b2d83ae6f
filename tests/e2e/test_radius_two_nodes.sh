#!/usr/bin/env bash
# Two FreeRADIUS nodes and one CAPF issuer on one PostgreSQL registry (issue 8):
# a throwaway cluster, `lscgate init --database`, one `lscgate serve`, two
# radius-labs reading the registry as lscgate_radius. A phone enrolled once is
# accepted by both (EAP-TLS and VPN); `lscgate revoke` makes both refuse it at the
# next request, no restart; last-seen names the node that saw each device; with
# PostgreSQL stopped node A (registry_outage_grace 0) refuses at once and node B
# (grace 30) still answers a device it saw, never one it did not, and refuses that
# one too once the grace has run out; with PostgreSQL back both recover without a
# restart.
#
# Devices: P is seen by both nodes and then revoked; Q only by node B; R only by
# node A (so R is a valid device node B has never seen).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pg_lib.sh"
source "$(dirname "$0")/radius_lib.sh"
require_radius_prerequisites

CAPF_DIR=$WORK/capf
P=SEP00000000CC01
Q=SEP00000000CC02
R=SEP00000000CC03
STRANGER=SEP00000000CCFF
GRACE_B=30
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }

# must DESCRIPTION -- command...: a step everything after it depends on; the test
# stops at the first one that fails (and says which).
must() {
    local what=$1 rc
    shift 2
    set +e
    "$@" >"$WORK/step.out" 2>&1  # not in a subshell: start_lab records its PID for the cleanup
    rc=$?
    set -e
    OUT=$(cat "$WORK/step.out")
    if [ "$rc" -eq 0 ]; then
        pass "$what"
    else
        failed "$what: rc=$rc"
        sed 's/^/    | /' <<<"$OUT" | tail -20
        echo "stopped at: $what"
        finish || exit 1
    fi
}

# registry QUERY: one value, read as the superuser over the socket.
registry() { pg_psql -d "$PG_SUPERUSER dbname=radius" -At -c "$1"; }

# node_env X: the lab settings of node X (a or b) as X_VPN, X_EAP, X_CA, X_LOG, X_PID.
node_env() {
    local x=$1 X=${1^^}
    # shellcheck disable=SC1090
    source "$WORK/node-$x/lab.env"
    printf -v "${X}_VPN" '%s' "$VPN_PORT"
    printf -v "${X}_EAP" '%s' "$EAP_PORT"
    printf -v "${X}_CA" '%s' "$SERVER_CA"
    printf -v "${X}_LOG" '%s' "$LOG"
    printf -v "${X}_PID" '%s' "$(cat "$PIDFILE")"
}
port_of() { local v="${1^^}_$2"; echo "${!v}"; }

# vpn_at X NAME: an ASA-style authorization request to node X (rc 0 = Access-Accept).
vpn_at() {
    printf 'User-Name = "%s"\nService-Type = Authorize-Only\n' "$2" |
        radclient -x -r 1 -t 5 "127.0.0.1:$(port_of "$1" VPN)" auth "$SECRET"
}
vpn_refused_at() {
    local out
    out=$(vpn_at "$@" 2>&1) && return 1
    grep -q "Received Access-Reject" <<<"$out"
}

# eapol_at X NAME: one EAP-TLS authentication of NAME's LSC at node X.
eapol_at() {
    cat >"$WORK/eapol-$1-$2.conf" <<EOC
network={
	key_mgmt=IEEE8021X
	eap=TLS
	identity="$2"
	ca_cert="$(port_of "$1" CA)"
	client_cert="$WORK/phones/$2.lsc.pem"
	private_key="$WORK/phones/$2.lsc.key"
	eapol_flags=0
	fragment_size=1024
	phase1="tls_disable_tlsv1_3=1"
}
EOC
    eapol_test -c "$WORK/eapol-$1-$2.conf" -a 127.0.0.1 -p "$(port_of "$1" EAP)" -s "$SECRET" -t 15
}

# seen_by NAME NODE: last-seen in the shared registry has a row of NODE for device NAME.
seen_by() { [ "$(registry "SELECT count(*) FROM lscgate.last_seen WHERE device = '$1' AND node = '$2'")" -ge 1 ]; }

same_processes() {
    if kill -0 "$A_PID" 2>/dev/null && kill -0 "$B_PID" 2>/dev/null; then
        pass "$1: both nodes are the same FreeRADIUS processes ($A_PID, $B_PID)"
    else
        failed "$1: a node's FreeRADIUS process ($A_PID, $B_PID) is gone"
    fi
}

# ---- one registry on PostgreSQL, one issuer -----------------------------------------------
pg_start
pg_setup_registry radius
must "lscgate init --database (the issuer's conninfo)" -- "$LSCGATE" init --dir "$CAPF_DIR" --database "$PG_ISSUER_URI"
expect_eq "$([ -e "$CAPF_DIR/lscgate.db" ] && echo present || echo absent)" absent "no SQLite registry beside it"
must "the schema is in PostgreSQL" -- registry "SELECT max(version) FROM lscgate.schema_version"
must "devices added" -- adm device add "$P" "$Q" "$R"
for d in "$P" "$Q" "$R"; do adm op install "$d" --key ec:p256 >/dev/null 2>&1; done
start_capf "$CAPF_DIR"
for d in "$P" "$Q" "$R"; do must "phone $d enrols once" -- phone "$d"; done
expect_eq "$(registry "SELECT count(*) FROM lscgate.certificates WHERE status = 'active'")" 3 "three active LSCs in PostgreSQL"

# ---- two FreeRADIUS nodes on it ---------------------------------------------------------------
must "node A (registry_outage_grace 0) starts" -- start_lab "$WORK/node-a" "$CAPF_DIR" --database "$PG_RADIUS_URI" \
    --node-name node-a --outage-grace 0 --read-connections 2 --trust-refresh 0
node_env a
must "node B (registry_outage_grace $GRACE_B) starts" -- start_lab "$WORK/node-b" "$CAPF_DIR" --database "$PG_RADIUS_URI" \
    --node-name node-b --outage-grace "$GRACE_B" --read-connections 2 --trust-refresh 0
node_env b
[ "$A_VPN" != "$B_VPN" ] && [ "$A_PID" != "$B_PID" ] && pass "two labs: ports $A_VPN/$B_VPN, pids $A_PID/$B_PID" ||
    failed "the two labs share a port or a process"
for x in a b; do
    # Compared, not printed: the line holds the role's password.
    if [ "$(sed -n 's/^[[:space:]]*database = //p' "$WORK/node-$x/raddb/mods-available/lscgate")" = "\"$PG_RADIUS_URI\"" ]; then
        pass "node $x's module reads the registry on PostgreSQL as lscgate_radius"
    else
        failed "node $x's module database is not the lscgate_radius conninfo"
    fi
done

for x in a b; do
    expect_rc 0 "node $x: EAP-TLS with P's LSC succeeds" -- eapol_at "$x" "$P"
    expect_contains "$OUT" "CTRL-EVENT-EAP-SUCCESS" "node $x: EAP success for P"
    expect_rc 0 "node $x: VPN request for P is accepted" -- vpn_at "$x" "$P"
    expect_failure "node $x: VPN request for an unknown device is rejected" -- vpn_at "$x" "$STRANGER"
done
expect_rc 0 "node B: VPN request for Q is accepted" -- vpn_at b "$Q"
expect_rc 0 "node A: VPN request for R is accepted" -- vpn_at a "$R"

# ---- revoke: both nodes refuse at the next request, no restart ------------------------------
expect_rc 0 "lscgate revoke P" -- adm revoke "$P" --reason key-compromise
for x in a b; do
    expect_failure "node $x: EAP-TLS with the revoked LSC fails at once" -- eapol_at "$x" "$P"
    expect_contains "$OUT" "EAP-Failure" "node $x: EAP-Failure after the revocation"
    expect_failure "node $x: VPN request for the revoked P is rejected at once" -- vpn_at "$x" "$P"
done
expect_contains "$(cat "$A_LOG")" "reject [lsc-revoked] $P" "node A logged the revoked LSC"
expect_contains "$(cat "$B_LOG")" "reject [lsc-revoked] $P" "node B logged the revoked LSC"
same_processes "after the revocation"

# ---- last-seen in the shared registry: both nodes ------------------------------------------
# Written off the worker threads, in batches: polled (bounded), never slept for.
wait_until 30 "last-seen: R seen by node-a" -- seen_by "$R" node-a && pass "last-seen: R by node-a"
wait_until 30 "last-seen: Q seen by node-b" -- seen_by "$Q" node-b && pass "last-seen: Q by node-b"
wait_until 30 "last-seen: P seen by node-a" -- seen_by "$P" node-a && pass "last-seen: P by node-a"
wait_until 30 "last-seen: P seen by node-b" -- seen_by "$P" node-b && pass "last-seen: P by node-b too"
expect_eq "$(registry "SELECT count(*) FROM lscgate.last_seen WHERE device = '$R' AND node = 'node-b'")" 0 \
    "last-seen: no row of node-b for R (node-b never saw it)"
expect_eq "$(registry "SELECT string_agg(DISTINCT node, ',' ORDER BY node) FROM lscgate.last_seen")" "node-a,node-b" \
    "last-seen names both nodes"
if adm device seen --help >/dev/null 2>&1; then
    expect_rc 0 "lscgate device seen" -- adm device seen
    expect_contains "$OUT" "node-a" "device seen shows node-a"
    expect_contains "$OUT" "node-b" "device seen shows node-b"
fi
# doctor --device reads the same shared last-seen (no --last-seen needed with a PostgreSQL registry).
OUT=$(adm doctor --json --no-serve --device "$R") || true
expect_contains "$(python3 -c 'import json,sys; print(next(f["severity"]+" "+f["cause"] for f in json.load(sys.stdin)["findings"] if f["check"]=="device.seen"))' <<<"$OUT")" \
    "ok RADIUS last saw $R at" "doctor --device: R last seen (PostgreSQL lscgate.last_seen)"
expect_contains "$OUT" "on node node-a" "doctor names the node that saw it"

# ---- PostgreSQL stopped: each node follows its outage policy ----------------------------
# The grace runs from the registry's last answer to node B: one just before the outage.
last_answer=$SECONDS
expect_rc 0 "node B accepts Q just before the outage" -- vpn_at b "$Q"
pg_stop
expect_failure "PostgreSQL is down" -- pg_ready
expect_rc 0 "node B (grace $GRACE_B s) still accepts Q, a device it saw" -- vpn_at b "$Q"
expect_failure "node B refuses R, a device it never saw" -- vpn_at b "$R"
expect_contains "$OUT" "Received Access-Reject" "node B answers with Access-Reject"
expect_failure "node A (grace 0) refuses R at once" -- vpn_at a "$R"
expect_contains "$OUT" "Received Access-Reject" "node A answers with Access-Reject"
expect_failure "node A refuses EAP-TLS for R at once" -- eapol_at a "$R"
expect_failure "node B still refuses the revoked P" -- vpn_at b "$P"
# The grace is bounded: once it has run out, node B refuses Q too (polled, not slept).
wait_until $((GRACE_B + 30)) "node B refuses Q once its grace has run out" -- vpn_refused_at b "$Q" &&
    pass "node B refuses Q $((SECONDS - last_answer)) s after the registry's last answer (grace $GRACE_B s)"
# SECONDS counts whole seconds: allow one for the rounding.
[ $((SECONDS - last_answer)) -ge "$((GRACE_B - 1))" ] && pass "not before the grace was over" ||
    failed "node B refused Q $((SECONDS - last_answer)) s after the last answer, before its grace of $GRACE_B s"
same_processes "during the outage"

# ---- PostgreSQL back: both recover without a restart -------------------------------------
pg_launch || failed "PostgreSQL did not start again on port $PGPORT"
wait_until 60 "node A accepts R again" -- vpn_at a "$R" && pass "node A accepts R again after the outage"
wait_until 60 "node B accepts Q again" -- vpn_at b "$Q" && pass "node B accepts Q again after the outage"
expect_rc 0 "node B now accepts R (read from the registry)" -- vpn_at b "$R"
expect_rc 0 "node A: EAP-TLS for R succeeds again" -- eapol_at a "$R"
expect_failure "node A still refuses the revoked P" -- vpn_at a "$P"
same_processes "after the recovery"

stop_lab "$WORK/node-a"
stop_lab "$WORK/node-b"
stop_capf
finish
