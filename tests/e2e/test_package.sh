#!/usr/bin/env bash
# The Debian packages on this machine (issue 13): build them (scripts/package:
# CPack + lintian), install with dpkg -i (twice: the maintainer scripts are
# idempotent), verify the systemd units, `lscgate init` as an admin would, run
# `lscgate serve` exactly as lscgate.service does (its User, Group, UMask,
# Environment and ExecStart, read from the installed unit) with a test-side
# NOTIFY_SOCKET that must receive READY=1, WATCHDOG=1, RELOADING=1 and
# STOPPING=1, reload the configuration with SIGHUP, enrol simulated phones, load
# the packaged module into FreeRADIUS (freeradius -C, as freerad), then purge:
# nothing is left but the registry and its owner - and with
# LSCGATE_PURGE_REGISTRY=yes not even that.
#
# It changes this machine (a system user, /usr/bin/lscgate, /etc/lscgate, ...)
# and undoes it; it refuses to run where lscgate is installed already, so an
# admin's installation is never purged.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${LSCGATE_BUILD_DIR:?LSCGATE_BUILD_DIR must point to the build tree (configured with -DLSCGATE_FREERADIUS=ON)}
DIR=/var/lib/lscgate
CONF=/etc/lscgate/lscgate.toml
UNIT=/lib/systemd/system/lscgate.service
A=SEP00000013A001
B=SEP00000013A002

missing=""
[ "$(id -u)" -eq 0 ] || missing="root (dpkg -i)"
for tool in dpkg dpkg-query cpack lintian systemd-analyze freeradius setpriv sqlite3 openssl python3 getent; do
    command -v "$tool" >/dev/null || missing="$missing $tool"
done
if [ -n "$missing" ]; then echo "FAIL - prerequisites missing: $missing"; echo "0 passed, 1 failed"; exit 1; fi
# One package test per machine at a time (it installs system-wide): wait for another
# checkout's run to finish (bounded), rather than fail on its half-installed state.
exec 9>/run/lock/lscgate-e2e-package.lock
flock -w 900 9 || { echo "FAIL - another e2e.package run holds /run/lock/lscgate-e2e-package.lock"; echo "0 passed, 1 failed"; exit 1; }
for pkg in lscgate freeradius-lscgate; do
    if [ -n "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -v 'not-installed' || true)" ]; then
        echo "FAIL - $pkg is already on this machine ($(dpkg-query -W -f='${Status}' "$pkg")): this test installs and purges"
        echo "       the packages and will not touch an existing installation (dpkg --purge $pkg first)"
        echo "0 passed, 1 failed"
        exit 1
    fi
done
if getent passwd lscgate >/dev/null || [ -e "$DIR" ] || [ -e /etc/lscgate ]; then
    echo "FAIL - a user lscgate, $DIR or /etc/lscgate exists without the package: remove it first"
    echo "0 passed, 1 failed"
    exit 1
fi

# Whatever happens, leave the machine as it was (after the checks above: nothing was there).
INSTALLED=0
package_cleanup() {
    if [ "$INSTALLED" = 1 ]; then
        [ -z "${SERVE_PID:-}" ] || kill -TERM "$SERVE_PID" 2>/dev/null || true
        LSCGATE_PURGE_REGISTRY=yes dpkg --purge freeradius-lscgate lscgate >/dev/null 2>&1 || true
    fi
    e2e_cleanup
}
trap package_cleanup EXIT
chmod 755 "$WORK"  # freerad (freeradius -C) and lscgate reach files below it

# The state the packages touch: paths (owner, group, mode), the user and group, freerad's groups.
snapshot() {
    find /usr/bin/lscgate /etc/lscgate /etc/freeradius/ /usr/lib/freeradius/ /usr/share/freeradius/ \
         /usr/share/doc/lscgate /usr/share/doc/freeradius-lscgate /lib/systemd/system/ /etc/systemd/system/ \
         /var/lib/systemd/deb-systemd-helper-enabled/ /var/lib/systemd/deb-systemd-helper-masked/ "$DIR" \
         -printf '%p %u:%g %m %y\n' 2>/dev/null | sort || true  # find: the paths not there (yet) are the point
    ls /var/lib/dpkg/info | grep -E '^(lscgate|freeradius-lscgate)[.:]' || true
    echo "passwd $(getent passwd lscgate || true)"
    echo "group $(getent group lscgate || true)"
    echo "freerad in $(id -nG freerad 2>/dev/null || true)"
}
stat_of() { stat -c '%U:%G %a' "$1" 2>/dev/null || echo "missing"; }
snapshot >"$WORK/before.txt"

# ---- build: CPack and lintian --------------------------------------------------------------
expect_rc 0 "scripts/package builds both packages, lintian finds no error" -- bash "$ROOT/scripts/package" --no-build "$BUILD"
echo "$OUT" | sed 's/^/    | /'
LSC_DEB=$(ls "$BUILD"/packages/lscgate_*.deb)
FR_DEB=$(ls "$BUILD"/packages/freeradius-lscgate_*.deb)
FR_UPSTREAM=$(dpkg-query -W -f='${Version}' libfreeradius-dev | sed -E 's/^[0-9]+://; s/^([0-9]+\.[0-9]+\.[0-9]+).*/\1/')
FR_NEXT=$(awk -F. '{ printf "%s.%s.%d", $1, $2, $3 + 1 }' <<<"$FR_UPSTREAM")
expect_contains "$(dpkg-deb -f "$FR_DEB" Depends)" "freeradius (>= $FR_UPSTREAM), freeradius (<< $FR_NEXT~)" \
    "freeradius-lscgate depends on exactly FreeRADIUS $FR_UPSTREAM"
expect_contains "$(dpkg-deb -c "$FR_DEB")" "./usr/lib/freeradius/rlm_lscgate.so" "the module lies in FreeRADIUS's module directory"
expect_eq "$(dpkg-deb -I "$LSC_DEB" conffiles | tr -d ' ')" "/etc/lscgate/lscgate.toml" "lscgate.toml is a conffile"
expect_eq "$(dpkg-deb -I "$FR_DEB" conffiles | grep -c '^/etc/freeradius/3.0/')" 4 "mods-available/lscgate and the 3 sites are conffiles"

# ---- install (twice) -----------------------------------------------------------------------
INSTALLED=1
expect_rc 0 "dpkg -i lscgate freeradius-lscgate" -- dpkg -i "$LSC_DEB" "$FR_DEB"
snapshot >"$WORK/installed.txt"
expect_rc 0 "dpkg -i again (the maintainer scripts are idempotent)" -- dpkg -i "$LSC_DEB" "$FR_DEB"
snapshot >"$WORK/installed-again.txt"
if diff -u "$WORK/installed.txt" "$WORK/installed-again.txt" >"$WORK/again.diff"; then
    pass "a second installation changes nothing"
else failed "a second installation changed:"; sed 's/^/    | /' "$WORK/again.diff"; fi
expect_contains "$(getent passwd lscgate)" ":$DIR:/usr/sbin/nologin" "system user lscgate, home $DIR, no shell"
expect_eq "$(stat_of "$DIR")" "lscgate:lscgate 2750" "$DIR: lscgate's, setgid, group-readable (freerad writes nothing there)"
expect_eq "$(stat_of "$CONF")" "root:lscgate 640" "$CONF readable by the service only"
expect_eq "$(readlink "$DIR/lscgate.toml")" "$CONF" "$DIR/lscgate.toml links the conffile"
expect_contains " $(id -nG freerad) " " lscgate " "freerad is a member of group lscgate"
expect_not_contains "$(ls /etc/freeradius/3.0/mods-enabled /etc/freeradius/3.0/sites-enabled)" "lscgate" \
    "the module and the sites are not enabled"

# ---- the units ------------------------------------------------------------------------------
expect_rc 0 "systemd-analyze verify lscgate.service lscgate-check.service lscgate-check.timer" -- \
    systemd-analyze verify "$UNIT" /lib/systemd/system/lscgate-check.service /lib/systemd/system/lscgate-check.timer
[ -z "$OUT" ] || echo "$OUT" | sed 's/^/    | /'
for key in Type=notify User=lscgate ProtectSystem=strict StateDirectory=lscgate ConfigurationDirectory=lscgate \
           NoNewPrivileges=yes PrivateTmp=yes "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" "CapabilityBoundingSet=" \
           "ExecReload=/bin/kill -HUP \$MAINPID" WatchdogSec=; do
    expect_contains "$(grep -v '^#' "$UNIT")" "$key" "lscgate.service: $key"
done
expect_contains "$(grep -v '^#' /lib/systemd/system/lscgate-check.service)" "ExecStart=/usr/bin/lscgate check" \
    "lscgate-check.service runs lscgate check"
expect_contains "$(grep -v '^#' /lib/systemd/system/lscgate-check.timer)" "OnCalendar=daily" "lscgate-check.timer: daily"

# ---- first run: lscgate init as root, as an admin types it ----------------------------------
CAPF_PORT=$(free_port)
sed -i "s/^listen = .*/listen = \"127.0.0.1:$CAPF_PORT\"/" "$CONF"
expect_rc 0 "lscgate init (root, default directory)" -- env -u LSCGATE_DIR -u LSCGATE_DATABASE /usr/bin/lscgate init
expect_eq "$(stat_of "$DIR")" "lscgate:lscgate 2750" "$DIR keeps its owner and mode"
expect_eq "$(stat_of "$DIR/capf.key")" "lscgate:lscgate 600" "capf.key: the service's, 0600"
expect_eq "$(stat_of "$DIR/capf.crt")" "lscgate:lscgate 644" "capf.crt: the service's"
expect_eq "$(stat_of "$DIR/lscgate.db")" "lscgate:lscgate 640" "lscgate.db: group lscgate (freerad) may read it, not write it"
for companion in -wal -shm; do
    expect_eq "$(stat_of "$DIR/lscgate.db$companion")" "lscgate:lscgate 640" "lscgate.db$companion: kept by init (persistent WAL), as the database file"
done
expect_eq "$(readlink "$DIR/lscgate.toml")" "$CONF" "init kept the link to the conffile"

# ---- serve, the way lscgate.service starts it -----------------------------------------------
unit_value() { sed -n "s/^$1=//p" "$UNIT" | tail -1; }
U_USER=$(unit_value User)
U_GROUP=$(unit_value Group)
U_UMASK=$(unit_value UMask)
U_ENV=$(unit_value Environment)
U_EXEC=$(unit_value ExecStart)
NOTIFY_DIR=$(mktemp -d /tmp/lscgate-notify.XXXXXX)  # short: sockaddr_un holds 107 bytes
E2E_DIRS+=("$NOTIFY_DIR")
chmod 711 "$NOTIFY_DIR"
NOTIFY_LOG=$WORK/notify.log
python3 "$ROOT/tests/e2e/notify_listener.py" "$NOTIFY_DIR/notify" "$NOTIFY_LOG" &
E2E_PIDS+=("$!")
wait_log "$NOTIFY_LOG" "bound"
SERVE_LOG=$WORK/serve.log
# shellcheck disable=SC2086 # the unit's Environment= and ExecStart= split as systemd splits them (no quotes in them)
(
    umask "$U_UMASK"
    exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin $U_ENV NOTIFY_SOCKET="$NOTIFY_DIR/notify" \
        WATCHDOG_USEC=2000000 WATCHDOG_PID="$BASHPID" \
        setpriv --reuid="$U_USER" --regid="$U_GROUP" --init-groups $U_EXEC
) >"$SERVE_LOG" 2>&1 &
SERVE_PID=$!
E2E_PIDS+=("$SERVE_PID")
wait_log "$NOTIFY_LOG" "READY=1"
expect_contains "$(grep READY=1 "$NOTIFY_LOG" | head -1)" "STATUS=listening on 127.0.0.1:$CAPF_PORT" \
    "READY=1 with the listening address (from the conffile)"
wait_log "$NOTIFY_LOG" "WATCHDOG=1" 2 && pass "WATCHDOG=1 every WATCHDOG_USEC/2"
expect_eq "$(ps -o user= -p "$SERVE_PID")" "$U_USER" "serve runs as $U_USER"
expect_contains "$(cat "$SERVE_LOG")" "capf listening on 127.0.0.1:$CAPF_PORT" "serve logs to stderr (the journal)"

# ---- a phone enrols -------------------------------------------------------------------------
adm() { env -u LSCGATE_DIR -u LSCGATE_DATABASE /usr/bin/lscgate "$@"; }
enrol() {
    adm device add "$1" >/dev/null && adm op install "$1" --auth null --key ec:p256 >/dev/null 2>&1 &&
        adm phone --server "127.0.0.1:$CAPF_PORT" --capf-cert "$DIR/capf.crt" --name "$1" --out "$WORK/phones"
}
expect_rc 0 "phone $A enrols against the packaged service" -- enrol "$A"
expect_eq "$(sqlite3 -readonly "$DIR/lscgate.db" "SELECT count(*) FROM certificates WHERE device_name='$A' AND status='active'")" 1 \
    "$A has an active LSC"
for companion in -wal -shm; do
    expect_eq "$(stat_of "$DIR/lscgate.db$companion")" "lscgate:lscgate 640" "lscgate.db$companion: as the database file"
done

# ---- SIGHUP reloads the configuration -------------------------------------------------------
sed -i 's/^lsc_days = .*/lsc_days = 90/' "$CONF"
kill -HUP "$SERVE_PID"
wait_log "$NOTIFY_LOG" "READY=1" 2
expect_eq "$(grep -c RELOADING=1 "$NOTIFY_LOG")" 1 "RELOADING=1 on SIGHUP"
expect_contains "$(cat "$SERVE_LOG")" "capf configuration reloaded (SIGHUP)" "serve reloaded lscgate.toml"
expect_rc 0 "phone $B enrols after the reload" -- enrol "$B"
not_after=$(openssl x509 -noout -enddate -in "$WORK/phones/$B.lsc.pem" | cut -d= -f2)
days=$(( ($(date -d "$not_after" +%s) - $(date +%s) + 43200) / 86400 ))  # rounded to whole days
expect_eq "$days" 90 "$B's LSC follows the reloaded lsc_days = 90 (beyond lscgate check's 30-day warning)"

# ---- the daily check, as lscgate-check.service runs it ---------------------------------------
CHECK_UNIT=/lib/systemd/system/lscgate-check.service
# (enabled = linked into timers.target.wants, as systemctl enable does; deb-systemd-helper
# itself refuses to run outside a maintainer script)
expect_rc 0 "lscgate-check.timer is enabled by the package" -- test -L /etc/systemd/system/timers.target.wants/lscgate-check.timer
C_ENV=$(sed -n 's/^Environment=//p' "$CHECK_UNIT" | tail -1)
C_EXEC=$(sed -n 's/^ExecStart=//p' "$CHECK_UNIT" | tail -1)
# shellcheck disable=SC2086 # as systemd splits them
CHECK_RC=0
CHECK_OUT=$(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin $C_ENV setpriv --reuid=lscgate --regid=lscgate --init-groups $C_EXEC 2>&1) ||
    CHECK_RC=$?
expect_eq "$CHECK_RC" 0 "lscgate check as the unit runs it (user lscgate, the unit's environment): OK"
[ "$CHECK_RC" = 0 ] || echo "$CHECK_OUT" | sed 's/^/    | /'

expect_contains "$CHECK_OUT" "2 active LSCs" "it read the registry: $(echo "$CHECK_OUT" | head -1)"

# ---- FreeRADIUS loads the packaged module ---------------------------------------------------
expect_eq "$(setpriv --reuid=freerad --regid=freerad --init-groups sqlite3 -readonly "$DIR/lscgate.db" \
    "SELECT count(*) FROM certificates WHERE status='active'" 2>&1)" 2 "freerad reads the registry (group lscgate)"
RADDB=$WORK/raddb
cp -a /etc/freeradius/3.0 "$RADDB"
ln -s ../mods-available/lscgate "$RADDB/mods-enabled/lscgate"
ln -s ../sites-available/lscgate-vpn "$RADDB/sites-enabled/lscgate-vpn"
printf '$INCLUDE /usr/share/freeradius/dictionary.lscgate\n' >>"$RADDB/dictionary"
# FreeRADIUS loads modules from radiusd.conf's libdir (FR_LIBRARY_PATH unset): the package's file.
expect_eq "$(sed -n 's/^[[:space:]]*libdir = //p' "$RADDB/radiusd.conf")" /usr/lib/freeradius "the raddb's libdir"
expect_contains "$(dpkg -S /usr/lib/freeradius/rlm_lscgate.so)" "freeradius-lscgate:" "rlm_lscgate.so there is the package's"
expect_rc 0 "freeradius -C loads rlm_lscgate from the package" -- env -u FR_LIBRARY_PATH freeradius -C -X -d "$RADDB"
# Shown, not checked: sed reads every line (a `head` here would end the pipe early,
# and under pipefail the writer's SIGPIPE would end the whole test).
{ grep -E "rlm_lscgate|lscgate" <<<"$OUT" || true; } | { grep -v "^\s*#" || true; } | sed -n '1,8s/^/    | /p'
expect_contains "$OUT" "rlm_lscgate (lscgate): registry $DIR/lscgate.db opened read-only" \
    "rlm_lscgate instantiated on the packaged registry (as freerad)"
expect_contains "$OUT" "Configuration appears to be OK" "the configuration with the module and lscgate-vpn checks out"

# ---- FreeRADIUS decides from the registry it may only read -----------------------------------
for f in "$DIR" "$DIR/lscgate.db" "$DIR/lscgate.db-wal" "$DIR/lscgate.db-shm" "$DIR/capf.key"; do
    expect_failure "freerad may not write $f" -- setpriv --reuid=freerad --regid=freerad --init-groups test -w "$f"
done
VPN_PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -i "s/^\([[:space:]]*port = \)11812/\1$VPN_PORT/" "$RADDB/sites-available/lscgate-vpn"
# No 1812/1813 here; eap needs the default site's Auth-Type EAP, so it goes too.
rm -f "$RADDB/sites-enabled/default" "$RADDB/sites-enabled/inner-tunnel" "$RADDB/mods-enabled/eap"
FR_LOG=$WORK/freeradius.log
start_fr() {
    env -u FR_LIBRARY_PATH freeradius -f -X -d "$RADDB" >"$FR_LOG" 2>&1 &
    FR_PID=$!
    E2E_PIDS+=("$FR_PID")
    wait_log "$FR_LOG" "Ready to process requests"
}
stop_fr() {
    kill -TERM "$FR_PID"
    wait_until 30 "FreeRADIUS exits after SIGTERM" -- bash -c "! kill -0 $FR_PID"
}
start_fr
vpn() { printf 'User-Name = "%s"\nService-Type = Authorize-Only\n' "$1" | radclient -x -r 1 -t 5 "127.0.0.1:$VPN_PORT" auth testing123; }
expect_rc 0 "the packaged FreeRADIUS (as freerad) accepts $A's LSC" -- vpn "$A"
expect_contains "$OUT" "Received Access-Accept" "Access-Accept for $A"
expect_eq "$(ps -o user= -p "$FR_PID")" freerad "FreeRADIUS runs as freerad"
expect_rc 0 "lscgate revoke $A" -- adm revoke "$A" --reason key-compromise
expect_failure "the next request for $A is rejected" -- vpn "$A"
expect_contains "$OUT" "Received Access-Reject" "Access-Reject for the revoked $A"
expect_rc 0 "$B is still accepted" -- vpn "$B"
stop_fr

# ---- stop serve; an upgrade from the group-writable layout; FreeRADIUS with no writer ----------
kill -TERM "$SERVE_PID"
wait_log "$NOTIFY_LOG" "STOPPING=1"
wait_until 30 "serve exits after SIGTERM" -- bash -c "! kill -0 $SERVE_PID"
SERVE_PID=""
# The layout of the earlier packages: 2770, 0660, and a -shm FreeRADIUS made for itself.
chmod 2770 "$DIR" && chmod 660 "$DIR"/lscgate.db* && chown freerad "$DIR/lscgate.db-shm"
expect_rc 0 "dpkg -i lscgate over the group-writable layout (an upgrade's configure)" -- dpkg -i "$LSC_DEB"
expect_eq "$(stat_of "$DIR")" "lscgate:lscgate 2750" "the upgrade takes group write from $DIR"
for companion in "" -wal -shm; do
    expect_eq "$(stat_of "$DIR/lscgate.db$companion")" "lscgate:lscgate 640" "the upgrade gives lscgate.db$companion back to lscgate, 0640"
done
start_fr
expect_rc 0 "with no lscgate process running, FreeRADIUS (freerad) still accepts $B" -- vpn "$B"
expect_failure "and still rejects the revoked $A" -- vpn "$A"
stop_fr

# ---- purge ----------------------------------------------------------------------------------
expect_rc 0 "dpkg --purge freeradius-lscgate lscgate" -- dpkg --purge freeradius-lscgate lscgate
expect_contains "$OUT" "kept $DIR" "purge says what it kept and how to remove it"
snapshot >"$WORK/purged.txt"
diff "$WORK/before.txt" "$WORK/purged.txt" | grep '^[<>]' >"$WORK/purged.diff" || true
sed 's/^/    | /' "$WORK/purged.diff"
unexpected=$(grep -vE "^> ($DIR[ /]|passwd lscgate:|group lscgate:)|^< (passwd|group) $" "$WORK/purged.diff" || true)
expect_eq "$unexpected" "" "after purge only $DIR and its owner (user and group lscgate) are left"
expect_eq "$(cd "$DIR" && ls | tr '\n' ' ')" "capf.crt capf.key lscgate.db lscgate.db-shm lscgate.db-wal " \
    "the registry (with its kept WAL) and the CAPF key are kept"
expect_eq "$(stat_of "$DIR/lscgate.db")" "lscgate:lscgate 640" "kept files still belong to lscgate"
expect_not_contains " $(id -nG freerad) " " lscgate " "freerad left group lscgate"

# ---- reinstall onto the kept registry, then purge it too ------------------------------------
expect_rc 0 "dpkg -i lscgate onto the kept registry" -- dpkg -i "$LSC_DEB"
expect_eq "$(stat_of "$DIR/capf.key")" "lscgate:lscgate 600" "the kept CAPF key is the service's again"
expect_rc 0 "LSCGATE_PURGE_REGISTRY=yes dpkg --purge lscgate" -- env LSCGATE_PURGE_REGISTRY=yes dpkg --purge lscgate
INSTALLED=0
snapshot >"$WORK/purged-all.txt"
if diff -u "$WORK/before.txt" "$WORK/purged-all.txt" >"$WORK/purged-all.diff"; then
    pass "with LSCGATE_PURGE_REGISTRY=yes nothing at all is left"
else failed "left behind:"; sed 's/^/    | /' "$WORK/purged-all.diff"; fi

finish
