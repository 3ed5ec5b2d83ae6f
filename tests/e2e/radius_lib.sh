# Helpers for FreeRADIUS end-to-end tests (source after lib.sh): a radius-lab on
# loopback, eapol_test (802.1X EAP-TLS) and radclient (VPN-style requests).
RADIUS_LAB=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/radius-lab

require_radius_prerequisites() {
    local missing=""
    [ "$(id -u)" -eq 0 ] || missing="root (FreeRADIUS binds as root, then runs as freerad)"
    local tool
    for tool in freeradius eapol_test radclient sqlite3 openssl setpriv; do
        command -v "$tool" >/dev/null || missing="$missing $tool"
    done
    [ -n "${LSCGATE_FR_MODULE_DIR:-}" ] && [ -f "$LSCGATE_FR_MODULE_DIR/rlm_lscgate.so" ] ||
        missing="$missing LSCGATE_FR_MODULE_DIR/rlm_lscgate.so (build with -DLSCGATE_FREERADIUS=ON)"
    if [ -n "$missing" ]; then
        echo "FAIL - prerequisites missing: $missing"
        echo "0 passed, 1 failed"
        exit 1
    fi
    chmod 755 "$WORK"  # freerad must reach the lab and the registry below $WORK
}

# start_lab DIR LSCGATE_DIR [radius-lab build options]: build, check, start; sources lab.env.
start_lab() {
    local dir=$1 ldir=$2
    shift 2
    "$RADIUS_LAB" build "$dir" --lscgate-dir "$ldir" --module-dir "$LSCGATE_FR_MODULE_DIR" "$@" >"$dir.build.log" 2>&1 ||
        { cat "$dir.build.log"; return 1; }
    "$RADIUS_LAB" check "$dir" >"$dir.check.log" 2>&1 || { cat "$dir.check.log"; return 1; }
    "$RADIUS_LAB" start "$dir" >/dev/null || return 1
    # shellcheck disable=SC1091
    source "$dir/lab.env"
    FR_PID=$(cat "$PIDFILE")
    E2E_PIDS+=("$FR_PID")
}

stop_lab() { "$RADIUS_LAB" stop "$1" >/dev/null; }

# eapol_conf NAME IDENTITY CERT KEY, then eapol NAME: one EAP-TLS authentication.
eapol_conf() {
    cat >"$WORK/eapol-$1.conf" <<EOC
network={
	key_mgmt=IEEE8021X
	eap=TLS
	identity="$2"
	ca_cert="$SERVER_CA"
	client_cert="$3"
	private_key="$4"
	eapol_flags=0
	fragment_size=1024
	phase1="tls_disable_tlsv1_3=1"
}
EOC
}
eapol() { eapol_test -c "$WORK/eapol-$1.conf" -a 127.0.0.1 -p "$EAP_PORT" -s "$SECRET" -t 15; }

# vpn USER-NAME: an ASA-style authorization request (User-Name only).
vpn() { printf 'User-Name = "%s"\nService-Type = Authorize-Only\n' "$1" | radclient -x -r 1 -t 5 "127.0.0.1:$VPN_PORT" auth "$SECRET"; }
# vpn_with_password USER-NAME PASSWORD: what a switch or a login form would send.
vpn_with_password() { printf 'User-Name = "%s"\nUser-Password = "%s"\n' "$1" "$2" | radclient -x -r 1 -t 5 "127.0.0.1:$VPN_PORT" auth "$SECRET"; }

