#!/usr/bin/env bash
# FreeRADIUS 3.2.1 with rlm_lscgate on loopback (scripts/radius-lab), end to end:
# a phone enrolled through `lscgate serve` + `lscgate phone` gets in with its new
# LSC over EAP-TLS (eapol_test); a MIC from a CA outside ca_file does not; a
# VPN-style Access-Request (radclient, User-Name only) is accepted for the enrolled
# device and rejected for an unknown one; after the LSC is revoked in the registry
# the next EAP-TLS and VPN requests fail - without restarting FreeRADIUS.
#
# Needs root (the server switches to freerad), freeradius, eapol_test (eapoltest),
# radclient (freeradius-utils) and LSCGATE_FR_MODULE_DIR = the directory holding
# rlm_lscgate.so. Missing packages or root fail the test (scripts/setup installs them).
HERE=$(cd "$(dirname "$0")" && pwd)
LAB=$HERE/../../scripts/radius-lab

missing() { echo "FAIL - prerequisite missing: $*"; echo "0 passed, 1 failed"; exit 1; }
[ "$(id -u)" -eq 0 ] || missing "needs root (FreeRADIUS binds as root and runs as freerad)"
id freerad >/dev/null 2>&1 || missing "no freerad user (apt-get install freeradius)"
for tool in freeradius eapol_test radclient sqlite3 openssl setpriv; do
    command -v "$tool" >/dev/null || missing "$tool not installed"
done
if [ -z "${LSCGATE_FR_MODULE_DIR:-}" ] || [ ! -f "$LSCGATE_FR_MODULE_DIR/rlm_lscgate.so" ]; then
    echo "LSCGATE_FR_MODULE_DIR must name the directory holding rlm_lscgate.so (build with -DLSCGATE_FREERADIUS=ON)"
    exit 1
fi

source "$HERE/lib.sh"
source "$HERE/mic_pki.sh"
source "$HERE/radius_lib.sh"
# FreeRADIUS runs as freerad: it must reach the lab and the registry below $WORK.
chmod 755 "$WORK"

CAPF_DIR=$WORK/capf
DB=$CAPF_DIR/lscgate.db
PHONE=SEP0011223344AA
UNKNOWN=SEP0011223344FF
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }

# ---- enrol a phone: lscgate serve + lscgate phone ---------------------------------
"$LSCGATE" init --dir "$CAPF_DIR" >/dev/null
make_mic_pki "$WORK/mic" "$PHONE"
adm device add "$PHONE" --model CP-8841 >/dev/null
adm op install "$PHONE" --auth null >/dev/null 2>&1
start_capf "$CAPF_DIR"
expect_rc 0 "phone enrols through lscgate serve" -- phone "$PHONE"
LSC=$WORK/phones/$PHONE.lsc.pem
LSC_KEY=$WORK/phones/$PHONE.lsc.key
expect_rc 0 "the new LSC chains to the CAPF" -- openssl verify -CAfile "$CAPF_DIR/capf.crt" "$LSC"
SERIAL=$(sql "$DB" "SELECT serial FROM certificates WHERE device_name='$PHONE' AND kind='lsc' AND status='active'")
expect_eq "$(sql "$DB" "SELECT count(*) FROM certificates WHERE device_name='$PHONE' AND kind='lsc' AND status='active'")" 1 \
    "registry holds one active LSC"
# The registry's form of the serial (BN_bn2hex) is what FreeRADIUS prints, upper-cased.
expect_eq "$(openssl x509 -in "$LSC" -noout -serial | sed 's/^serial=//')" "$SERIAL" "registry serial matches the certificate"

# ---- the lab: build, freeradius -C, start ------------------------------------------
expect_rc 0 "radius-lab build" -- "$LAB" build "$WORK/lab" --lscgate-dir "$CAPF_DIR" --module-dir "$LSCGATE_FR_MODULE_DIR"
if [ ! -f "$WORK/lab/lab.env" ]; then
    failed "radius-lab build wrote no lab.env"
    finish
    exit 1
fi
source "$WORK/lab/lab.env"
expect_eq "$(grep -c -- '-----BEGIN CERTIFICATE-----' "$WORK/lab/pki/trusted-client-cas.pem")" 1 "ca_file holds exactly the CAPF certificate"
expect_rc 0 "ca_file is the CAPF certificate" -- cmp "$WORK/lab/pki/trusted-client-cas.pem" "$CAPF_DIR/capf.crt"
expect_eq "$(grep -E '^[[:space:]]*ca_file[[:space:]]*=' "$RADDB/mods-available/eap" | awk '{print $3}')" \
    "$WORK/lab/pki/trusted-client-cas.pem" "eap trusts only that file (not the system CA bundle)"
expect_not_contains "$(cat "$RADDB/mods-available/eap")" "/etc/ssl" "eap refers to nothing under /etc/ssl"
expect_rc 0 "freeradius -C accepts the lab configuration" -- "$LAB" check "$WORK/lab"
expect_contains "$OUT" "Configuration appears to be OK" "freeradius -C: configuration OK"
expect_contains "$OUT" "rlm_lscgate (lscgate): registry $DB opened read-only" "freeradius -C instantiated the module"
expect_rc 0 "freeradius starts (threaded, -f -l stdout)" -- "$LAB" start "$WORK/lab"
FR_PID=$(cat "$PIDFILE" 2>/dev/null || echo "")
[ -n "$FR_PID" ] && E2E_PIDS+=("$FR_PID")
if [ -z "$FR_PID" ] || ! kill -0 "$FR_PID" 2>/dev/null; then
    failed "freeradius is not running"
    tail -30 "$LOG" 2>/dev/null | sed 's/^/    | /'
    finish
    exit 1
fi
expect_contains "$(cat "$LOG")" "rlm_lscgate (lscgate): registry $DB opened read-only" "module opened the registry read-only"
expect_contains "$(cat "/proc/$FR_PID/maps")" "$LSCGATE_FR_MODULE_DIR/rlm_lscgate.so" "module loaded from the build tree"
expect_eq "$(ps -o user= -p "$FR_PID" | tr -d ' ')" freerad "server runs as freerad"
listeners=$(ss -H -lnup 2>/dev/null | grep "pid=$FR_PID," | awk '{print $4}' | sort -u | tr '\n' ' ' || true)
expect_contains "$listeners" "127.0.0.1:$EAP_PORT" "EAP listener on loopback"
expect_contains "$listeners" "127.0.0.1:$VPN_PORT" "VPN listener on loopback"
expect_eq "$(tr ' ' '\n' <<<"$listeners" | grep -v '^$' | grep -vc '^127\.0\.0\.1:' || true)" 0 "no listener outside loopback"

# ---- EAP-TLS with eapol_test ---------------------------------------------------------
eapol_conf lsc "$PHONE" "$LSC" "$LSC_KEY"
eapol_conf mic "$PHONE" "$WORK/mic/$PHONE.mic.pem" "$WORK/mic/$PHONE.mic.key"

expect_rc 0 "EAP-TLS with the new LSC succeeds" -- eapol lsc
expect_contains "$OUT" "CTRL-EVENT-EAP-SUCCESS" "eapol_test: EAP success"
expect_contains "$OUT" "MPPE keys OK: 1" "eapol_test: MPPE keys delivered"

expect_failure "EAP-TLS with a MIC (CA not in ca_file) fails" -- eapol mic
expect_contains "$OUT" "EAP-Failure" "eapol_test: EAP failure for the MIC"
expect_not_contains "$OUT" "CTRL-EVENT-EAP-SUCCESS" "eapol_test: no EAP success for the MIC"

# ---- VPN authorization with radclient ------------------------------------------------
expect_rc 0 "VPN request for the enrolled device is accepted" -- vpn "$PHONE"
expect_contains "$OUT" "Received Access-Accept" "radclient: Access-Accept for $PHONE"
expect_rc 0 "VPN request with the name in lower case is accepted" -- vpn "$(tr 'A-Z' 'a-z' <<<"$PHONE")"
expect_failure "VPN request for an unknown device is rejected" -- vpn "$UNKNOWN"
expect_contains "$OUT" "Received Access-Reject" "radclient: Access-Reject for $UNKNOWN"
expect_failure "VPN request with a name that is not a device name is rejected" -- vpn "bob'; DROP TABLE devices;--"
expect_contains "$OUT" "Received Access-Reject" "radclient: Access-Reject for a hostile name"
expect_contains "$(cat "$LOG")" "reject [lsc-unregistered] $UNKNOWN: $UNKNOWN has no LSC in the registry" "log: class and reason of the unknown device"

# ---- revoke in the registry, no restart ----------------------------------------------
stop_capf
sqlite3 "$DB" "UPDATE certificates SET status='revoked', revoked_at=strftime('%s','now'), revocation_reason='test' WHERE serial='$SERIAL'"
expect_eq "$(sql "$DB" "SELECT status FROM certificates WHERE serial='$SERIAL'")" revoked "LSC marked revoked in SQLite"
expect_failure "EAP-TLS with the revoked LSC fails" -- eapol lsc
expect_contains "$OUT" "EAP-Failure" "eapol_test: EAP failure after revocation"
expect_contains "$(cat "$LOG")" "reject [lsc-revoked] $PHONE: $PHONE LSC serial $SERIAL is revoked" "log: lsc-revoked with the serial"
expect_failure "VPN request for the revoked device is rejected" -- vpn "$PHONE"
expect_contains "$OUT" "Received Access-Reject" "radclient: Access-Reject after revocation"

# ---- the other registry states, each seen by the next request ------------------------
set_lsc() { sqlite3 "$DB" "UPDATE certificates SET $1 WHERE serial='$SERIAL'"; }
NOW=$(date +%s)
eap_class() {  # eap_class CLASS DESCRIPTION: the next EAP-TLS attempt fails with CLASS in the log
    local before
    before=$(grep -c "reject \[$1\]" "$LOG" || true)
    expect_failure "EAP-TLS: $2" -- eapol lsc
    expect_eq "$(grep -c "reject \[$1\]" "$LOG" || true)" "$((before + 1))" "log: one more reject [$1]"
}
set_lsc "status='active', revoked_at=NULL, not_after=$((NOW - 60))"
eap_class lsc-expired "expired LSC fails"
expect_failure "VPN request for a device whose LSC expired is rejected" -- vpn "$PHONE"
set_lsc "not_before=$((NOW + 3600)), not_after=$((NOW + 86400))"
eap_class lsc-not-yet-valid "not-yet-valid LSC fails"
set_lsc "not_before=$((NOW - 60)), status='superseded'"
eap_class lsc-superseded "superseded LSC fails"
ORIG_ISSUER=$(sql "$DB" "SELECT issuer_oneline FROM certificates WHERE serial='$SERIAL'")
set_lsc "status='active', issuer_oneline='/O=Elsewhere/CN=Other CAPF'"
eap_class lsc-unregistered "same serial under another issuer is not this LSC"
set_lsc "issuer_oneline='$ORIG_ISSUER'"
expect_rc 0 "EAP-TLS succeeds again once the registry entry is active and valid" -- eapol lsc
expect_eq "$(cat "$PIDFILE")" "$FR_PID" "same freeradius process throughout (no restart)"
expect_not_contains "$(cat "$LOG")" "failing closed" "no internal errors logged"

# ---- stop by PID -----------------------------------------------------------------------
expect_rc 0 "radius-lab stop" -- "$LAB" stop "$WORK/lab"
if kill -0 "$FR_PID" 2>/dev/null; then failed "freeradius $FR_PID still running"; else pass "freeradius $FR_PID stopped"; fi
expect_contains "$(cat "$LOG")" "Exiting normally" "freeradius exited normally on SIGTERM"

# ---- vpn_user_name = dn: the ASA sends the whole subject DN ----------------------------
expect_rc 0 "radius-lab build with vpn_user_name = dn" -- "$LAB" build "$WORK/lab-dn" --lscgate-dir "$CAPF_DIR" \
    --module-dir "$LSCGATE_FR_MODULE_DIR" --vpn-user-name dn --reject-delay 0
source "$WORK/lab-dn/lab.env"
# Fail loudly on configuration the module cannot honour: a missing or broken policy file.
sed -i 's|^\([[:space:]]*policy = \).*|\1"/nonexistent/policy.toml"|' "$RADDB/mods-available/lscgate"
expect_failure "freeradius -C refuses a missing policy file" -- "$LAB" check "$WORK/lab-dn"
expect_contains "$OUT" "/nonexistent/policy.toml" "the refusal names the file"
printf '[actions]\nmic = "sometimes"\n' >"$WORK/lab-dn/broken-policy.toml"
chmod 644 "$WORK/lab-dn/broken-policy.toml"
sed -i "s|^\([[:space:]]*policy = \).*|\1\"$WORK/lab-dn/broken-policy.toml\"|" "$RADDB/mods-available/lscgate"
expect_failure "freeradius -C refuses a broken policy file" -- "$LAB" check "$WORK/lab-dn"
expect_contains "$OUT" "invalid action 'sometimes'" "the refusal says what is wrong"
sed -i 's|^\([[:space:]]*policy = \).*|\1""|' "$RADDB/mods-available/lscgate"
expect_rc 0 "freeradius starts with vpn_user_name = dn" -- "$LAB" start "$WORK/lab-dn"
FR_PID=$(cat "$PIDFILE" 2>/dev/null || echo "")
[ -n "$FR_PID" ] && E2E_PIDS+=("$FR_PID")
expect_rc 0 "VPN request with the device's DN is accepted" -- vpn "cn=$PHONE,ou=VTG,o=Cisco Systems Inc.,c=US"
expect_rc 0 "VPN request with the DN in OpenSSL oneline form is accepted" -- vpn "/C=US/O=Cisco Systems Inc./CN=$PHONE"
expect_failure "VPN request with a bare name is rejected in dn mode" -- vpn "$PHONE"
expect_failure "VPN request with a DN holding two CNs is rejected" -- vpn "CN=$UNKNOWN,CN=$PHONE"
expect_rc 0 "radius-lab stop (dn)" -- "$LAB" stop "$WORK/lab-dn"

finish
