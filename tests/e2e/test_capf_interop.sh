#!/usr/bin/env bash
# Interoperability: drive `lscgate serve` with an independent CAPF client written in
# Python from the protocol spec only (capf_interop_client.py), and check the outcome
# on both sides: what the client printed and stored, and what the registry recorded.
source "$(dirname "$0")/lib.sh"

CLIENT="$(cd "$(dirname "$0")" && pwd)/capf_interop_client.py"
CAPF_DIR=$WORK/capf
DB=$CAPF_DIR/lscgate.db
PHONES=$WORK/phones
"$LSCGATE" init --dir "$CAPF_DIR" >/dev/null
start_capf "$CAPF_DIR"

admin() { "$LSCGATE" --dir "$CAPF_DIR" "$@" >/dev/null 2>&1; }

# client NAME [args]: one session of the Python client against the running server.
client() {
    local name=$1
    shift
    python3 "$CLIENT" --server "127.0.0.1:$CAPF_PORT" --capf-cert "$CAPF_DIR/capf.crt" \
        --name "$name" --out "$PHONES" --timeout 20 "$@"
}

# latest operation state of a device, and the number of its open (pending/in-progress) ops
op_state() { sql "$DB" "SELECT o.state FROM operations o JOIN devices d ON d.id = o.device_id WHERE d.name = '$1' ORDER BY o.id DESC LIMIT 1;"; }
open_ops() { sql "$DB" "SELECT count(*) FROM operations o JOIN devices d ON d.id = o.device_id WHERE d.name = '$1' AND o.state IN ('pending','in-progress');"; }
cert_count() { sql "$DB" "SELECT count(*) FROM certificates WHERE device_name = '$1' AND status = '$2';"; }
cert_status_by_fp() { sql "$DB" "SELECT status FROM certificates WHERE fingerprint = '$1';"; }
active_fp() { sql "$DB" "SELECT fingerprint FROM certificates WHERE device_name = '$1' AND kind = 'lsc' AND status = 'active';"; }
# check WHAT TEST...: pass if the test command succeeds, fail otherwise
check() {
    local what=$1
    shift
    if "$@"; then pass "$what"; else failed "$what"; fi
}
fingerprint() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g'; }
pub_of_cert() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1; }
pub_of_key() { openssl pkey -in "$1" -pubout -outform DER | sha256sum | cut -d' ' -f1; }

# check_lsc NAME KEYTEXT: the LSC the client stored is signed by the CAPF, matches the
# stored private key, names the device, has the requested key, and is the registry's
# one active LSC for that device.
check_lsc() {
    local name=$1 keytext=$2 pem=$PHONES/$1.pem key=$PHONES/$1.key
    if [ ! -s "$pem" ] || [ ! -s "$key" ]; then
        failed "$name: client did not write $pem and $key"
        return
    fi
    expect_rc 0 "$name: LSC verifies against the CAPF certificate" -- openssl verify -CAfile "$CAPF_DIR/capf.crt" "$pem"
    expect_eq "$(pub_of_cert "$pem")" "$(pub_of_key "$key")" "$name: private key matches the LSC"
    expect_contains "$(openssl x509 -in "$pem" -noout -subject -nameopt RFC2253)" "CN=$name" "$name: subject names the device"
    expect_contains "$(openssl x509 -in "$pem" -noout -text)" "$keytext" "$name: LSC carries the requested key ($keytext)"
    expect_eq "$(active_fp "$name")" "$(fingerprint "$pem")" "$name: registry's active LSC is the one the phone stored"
    expect_eq "$(cert_count "$name" active)" "1" "$name: exactly one active LSC"
}

# --- install, protocol VERSION 3, empty PASSWORD, null auth, EC P-256 --------------------
N1=SEP00000000A001
admin device add "$N1"
admin op install "$N1" --auth null --key ec:p256
expect_rc 0 "v3 empty password, EC P-256 install" -- client "$N1" --version 3
expect_contains "$OUT" "END_SESSION reason=1 action=installed" "v3 install: client output"
expect_eq "$(op_state "$N1")" "succeeded" "v3 install: operation state"
check_lsc "$N1" "ASN1 OID: prime256v1"
# The Python client does not wait for the server's close: wait for the line.
wait_log "$CAPF_LOG" "device=$N1 mode=null op=install result=succeeded end=1" &&
    pass "v3 install: server session log"

# --- install, VERSION 2, PASSWORD absent (Jabber-style), null auth, RSA 2048 -------------
N2=CSFinterop
admin device add "$N2"
admin op install "$N2" --auth null --key rsa:2048
expect_rc 0 "v2 absent password, RSA-2048 install" -- client "$N2" --version 2 --no-password
expect_contains "$OUT" "END_SESSION reason=1 action=installed" "v2 install: client output"
expect_eq "$(op_state "$N2")" "succeeded" "v2 install: operation state"
check_lsc "$N2" "Public-Key: (2048 bit)"

# --- install, VERSION 1, RSA 2048 (spec §10: accept VERSION 1-3) -------------------------
N3=SEP00000000A003
admin device add "$N3"
admin op install "$N3" --key rsa:2048
expect_rc 0 "v1 RSA-2048 install" -- client "$N3" --version 1
expect_contains "$OUT" "END_SESSION reason=1 action=installed" "v1 install: client output"
check_lsc "$N3" "Public-Key: (2048 bit)"

# --- authentication string: wrong, then right (shuffled elements) ------------------------
N4=SEP00000000A004
admin device add "$N4"
admin op install "$N4" --auth string:4711081 --key ec:p256
expect_rc 2 "wrong authentication string is refused" -- client "$N4" --password 4711082
expect_contains "$OUT" "END_SESSION reason=7 action=none" "wrong string: END_SESSION 7"
expect_eq "$(op_state "$N4")" "pending" "wrong string: operation still pending"
expect_eq "$(sql "$DB" "SELECT count(*) FROM certificates WHERE device_name = '$N4';")" "0" "wrong string: no certificate recorded"
check "wrong string: client stored nothing" test ! -e "$PHONES/$N4.pem"
expect_rc 2 "empty PASSWORD is refused in string mode" -- client "$N4"
expect_contains "$OUT" "END_SESSION reason=7" "empty password in string mode: END_SESSION 7"
expect_rc 0 "right authentication string, shuffled AUTH_RESPONSE" -- client "$N4" --password 4711081 --shuffle
expect_contains "$OUT" "END_SESSION reason=1 action=installed" "right string: client output"
expect_eq "$(op_state "$N4")" "succeeded" "right string: operation state"
check_lsc "$N4" "ASN1 OID: prime256v1"

# --- shuffled element order a few more times (random order each run) --------------------
for i in 1 2 3; do
    n=SEP00000000A10$i
    admin device add "$n"
    admin op install "$n" --key ec:p256
    expect_rc 0 "shuffled AUTH_RESPONSE run $i" -- client "$n" --shuffle --keepalives 0
    expect_contains "$OUT" "END_SESSION reason=1 action=installed" "shuffle run $i: installed"
    expect_eq "$(op_state "$n")" "succeeded" "shuffle run $i: operation state"
done

# --- header and body in separate TLS writes, several keep-alives, RSA 2048 ---------------
N5=SEP00000000A005
admin device add "$N5"
admin op install "$N5" --auth string:2468 --key rsa:2048
expect_rc 0 "split writes with 3 keep-alives" -- client "$N5" --split --keepalives 3 --password 2468
expect_contains "$OUT" "END_SESSION reason=1 action=installed" "split: client output"
expect_eq "$(op_state "$N5")" "succeeded" "split: operation state"
check_lsc "$N5" "Public-Key: (2048 bit)"

# --- other curves ------------------------------------------------------------------------
N6=SEP00000000A006
admin device add "$N6"
admin op install "$N6" --key ec:p384
expect_rc 0 "EC P-384 install" -- client "$N6" --split
check_lsc "$N6" "ASN1 OID: secp384r1"
N7=SEP00000000A007
admin device add "$N7"
admin op install "$N7" --key ec:p521
expect_rc 0 "EC P-521 install" -- client "$N7"
check_lsc "$N7" "ASN1 OID: secp521r1"

# --- re-key (upgrade) authenticated by the current LSC: EC P-256 -> RSA 2048 -------------
cp "$PHONES/$N1.pem" "$WORK/$N1.old.pem"
cp "$PHONES/$N1.key" "$WORK/$N1.old.key"
OLD_FP=$(fingerprint "$WORK/$N1.old.pem")
admin op install "$N1" --auth lsc --key rsa:2048
expect_rc 2 "LSC auth without certificate proof is refused" -- client "$N1"
expect_contains "$OUT" "END_SESSION reason=7" "no proof: END_SESSION 7"
expect_rc 2 "LSC auth with another device's LSC is refused" -- client "$N1" --cert "$PHONES/$N4.pem" --key "$PHONES/$N4.key"
expect_contains "$OUT" "END_SESSION reason=7" "foreign LSC: END_SESSION 7"
expect_rc 2 "LSC auth with a key that does not match the LSC is refused" -- client "$N1" --cert "$WORK/$N1.old.pem" --key "$PHONES/$N4.key"
expect_contains "$OUT" "END_SESSION reason=7" "wrong key: END_SESSION 7"
expect_eq "$(op_state "$N1")" "pending" "failed proofs leave the upgrade pending"
expect_eq "$(cert_status_by_fp "$OLD_FP")" "active" "failed proofs leave the old LSC active"
expect_rc 0 "upgrade with LSC proof (EC key signs)" -- client "$N1" --cert "$WORK/$N1.old.pem" --key "$WORK/$N1.old.key" --shuffle
expect_contains "$OUT" "END_SESSION reason=1 action=installed" "upgrade: client output"
expect_eq "$(op_state "$N1")" "succeeded" "upgrade: operation state"
expect_eq "$(cert_status_by_fp "$OLD_FP")" "superseded" "upgrade: old LSC superseded"
check_lsc "$N1" "Public-Key: (2048 bit)"
check "upgrade: new certificate differs from the old one" test "$(fingerprint "$PHONES/$N1.pem")" != "$OLD_FP"
check "upgrade: fresh key" test "$(pub_of_key "$PHONES/$N1.key")" != "$(pub_of_key "$WORK/$N1.old.key")"
wait_log "$CAPF_LOG" "device=$N1 mode=lsc" && pass "upgrade: server logged LSC authentication"

# second upgrade, now proving possession with an RSA LSC (raw PKCS#1 signatures, §7.3)
cp "$PHONES/$N1.pem" "$WORK/$N1.rsa.pem"
cp "$PHONES/$N1.key" "$WORK/$N1.rsa.key"
RSA_FP=$(fingerprint "$WORK/$N1.rsa.pem")
admin op install "$N1" --auth lsc --key ec:p256
expect_rc 0 "upgrade with LSC proof (RSA key signs raw digests)" -- client "$N1" --cert "$WORK/$N1.rsa.pem" --key "$WORK/$N1.rsa.key"
expect_contains "$OUT" "END_SESSION reason=1 action=installed" "RSA-proof upgrade: client output"
expect_eq "$(cert_status_by_fp "$RSA_FP")" "superseded" "RSA-proof upgrade: previous LSC superseded"
expect_eq "$(cert_count "$N1" superseded)" "2" "RSA-proof upgrade: two superseded LSCs in history"
check_lsc "$N1" "ASN1 OID: prime256v1"

# --- SUDI_DATA with no mic_roots configured (issue 6) ------------------------------------
# A phone that always sends SUDI_DATA on a re-key. The RSA SUDI certificate is made here
# and chains to no configured root; this registry has no mic_roots at all, so under the
# default sudi = "verify-if-present" it cannot be verified: it is ignored and logged,
# never a rejection and never a lockout count.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/O=Cisco/CN=SUDI-$N1" \
    -keyout "$WORK/sudi.key" -out "$WORK/sudi.pem" 2>/dev/null
expect_eq "$(grep -c '^mic_roots *= *""' "$CAPF_DIR/lscgate.toml")" "1" "SUDI: the registry has no mic_roots"
auth_failures() { sql "$DB" "SELECT auth_failures FROM devices WHERE name = '$1';"; }
cp "$PHONES/$N1.pem" "$WORK/$N1.ec.pem"
cp "$PHONES/$N1.key" "$WORK/$N1.ec.key"
EC_FP=$(fingerprint "$WORK/$N1.ec.pem")
admin op install "$N1" --auth lsc --key ec:p256
expect_rc 0 "re-key with LSC proof and SUDI_DATA, no mic_roots" -- \
    client "$N1" --cert "$WORK/$N1.ec.pem" --key "$WORK/$N1.ec.key" --sudi-cert "$WORK/sudi.pem" --sudi-key "$WORK/sudi.key"
expect_contains "$OUT" "END_SESSION reason=1 action=installed" "SUDI re-key: client output"
expect_eq "$(cert_status_by_fp "$EC_FP")" "superseded" "SUDI re-key: previous LSC superseded"
check_lsc "$N1" "ASN1 OID: prime256v1"
# The Python client does not wait for the server's close: wait (bounded: 30 s) for the line.
for _ in $(seq 1 300); do
    SUDI_LINE=$(grep "device=$N1 mode=lsc" "$CAPF_LOG" | grep -F "SUDI_DATA" | tail -1)
    [ -n "$SUDI_LINE" ] && break
    sleep 0.1
done
expect_contains "$SUDI_LINE" "result=succeeded" "SUDI re-key: server logged success"
expect_contains "$SUDI_LINE" 'note="SUDI_DATA ignored: no MIC roots configured' "SUDI re-key: server logged why SUDI_DATA was ignored"
expect_eq "$(auth_failures "$N1")" "0" "SUDI re-key: nothing counted toward the lockout"

N10=SEP00000000A010
admin device add "$N10"
admin op install "$N10" --auth string:13579 --key ec:p256
expect_rc 0 "authentication string with SUDI_DATA, no mic_roots" -- \
    client "$N10" --password 13579 --sudi-cert "$WORK/sudi.pem" --sudi-key "$WORK/sudi.key" --shuffle
expect_contains "$OUT" "END_SESSION reason=1 action=installed" "string + SUDI: installed"
expect_eq "$(auth_failures "$N10")" "0" "string + SUDI: nothing counted toward the lockout"

# --- fetch (Troubleshoot) ----------------------------------------------------------------
CUR_FP=$(fingerprint "$PHONES/$N1.pem")
admin op fetch "$N1"
expect_rc 0 "fetch of the phone's LSC" -- client "$N1" --cert "$PHONES/$N1.pem" --key "$PHONES/$N1.key"
expect_contains "$OUT" "END_SESSION reason=0 action=fetched" "fetch: client output"
expect_eq "$(op_state "$N1")" "succeeded" "fetch: operation state"
expect_eq "$(cert_status_by_fp "$CUR_FP")" "active" "fetch of the known LSC keeps it active"

# a certificate the registry has never seen is recorded as fetched
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=$N2" -keyout "$WORK/foreign.key" -out "$WORK/foreign.pem" 2>/dev/null
admin op fetch "$N2"
expect_rc 0 "fetch of an unknown certificate" -- client "$N2" --cert "$WORK/foreign.pem" --key "$WORK/foreign.key"
expect_contains "$OUT" "END_SESSION reason=0 action=fetched" "fetch unknown: client output"
expect_eq "$(cert_status_by_fp "$(fingerprint "$WORK/foreign.pem")")" "fetched" "fetch unknown: recorded as fetched"
expect_eq "$(cert_count "$N2" active)" "1" "fetch unknown: the device's LSC stays active"

# a phone with nothing to give answers REASON 7. Spec §10 ("STORE/FETCH/DELETE answer not
# REASON=1: END_SESSION(7), nothing committed, operation pending") applies to
# fetch as it does to delete below.
N8=SEP00000000A008
admin device add "$N8"
admin op fetch "$N8"
expect_rc 2 "fetch from a phone without certificate" -- client "$N8"
expect_contains "$OUT" "END_SESSION reason=7 action=none" "empty fetch: END_SESSION 7"
expect_eq "$(op_state "$N8")" "pending" "empty fetch: operation still pending"

# --- delete ------------------------------------------------------------------------------
admin op delete "$N1"
expect_rc 0 "delete of the phone's LSC" -- client "$N1"
expect_contains "$OUT" "END_SESSION reason=1 action=deleted" "delete: client output"
expect_eq "$(op_state "$N1")" "succeeded" "delete: operation state"
expect_eq "$(cert_status_by_fp "$CUR_FP")" "removed" "delete: LSC row removed"
expect_eq "$(cert_count "$N1" active)" "0" "delete: no active LSC left"
check "delete: client removed its certificate" test ! -e "$PHONES/$N1.pem"
check "delete: client removed its key" test ! -e "$PHONES/$N1.key"
expect_contains "$("$LSCGATE" --dir "$CAPF_DIR" cert list --json)" "\"sha256\": \"$CUR_FP\"" "delete: cert list still shows the history"

# phone reports nothing to delete (REASON 7): the operation must stay pending (§6.4/§10)
admin op delete "$N8"
expect_rc 2 "delete on a phone without LSC" -- client "$N8"
expect_contains "$OUT" "END_SESSION reason=7 action=none" "empty delete: END_SESSION 7"
expect_eq "$(open_ops "$N8")" "1" "empty delete: operation still open"

# --- nothing pending, unsupported VERSION, unknown device --------------------------------
expect_rc 0 "session with nothing pending" -- client "$N3"
expect_contains "$OUT" "END_SESSION reason=0 action=none" "no operation: END_SESSION 0"

N9=SEP00000000A009
admin device add "$N9"
admin op install "$N9" --key ec:p256
expect_rc 2 "VERSION 4 is refused" -- client "$N9" --version 4
expect_contains "$OUT" "END_SESSION reason=7 action=none" "VERSION 4: END_SESSION 7"
expect_eq "$(op_state "$N9")" "pending" "VERSION 4: operation still pending"
expect_eq "$(sql "$DB" "SELECT count(*) FROM certificates WHERE device_name = '$N9';")" "0" "VERSION 4: nothing issued"
expect_rc 0 "same device then enrols with VERSION 3" -- client "$N9"
expect_contains "$OUT" "END_SESSION reason=1 action=installed" "after VERSION 4: installed"

expect_rc 2 "unknown device" -- client SEP0000000FFFFF
expect_contains "$OUT" "END_SESSION reason=9 action=none" "unknown device: END_SESSION 9"
expect_eq "$(sql "$DB" "SELECT count(*) FROM devices WHERE name = 'SEP0000000FFFFF';")" "0" "unknown device: not auto-enrolled"

# --- the client itself must fail when nothing answers (it cannot pass by accident) -------
expect_rc 1 "client reports an I/O error when no server listens" -- \
    python3 "$CLIENT" --server "127.0.0.1:$(free_port)" --capf-cert "$CAPF_DIR/capf.crt" --name "$N3" --out "$PHONES"
expect_rc 1 "client rejects a server whose certificate is not the CAPF's" -- \
    python3 "$CLIENT" --server "127.0.0.1:$CAPF_PORT" --capf-cert "$WORK/foreign.pem" --name "$N3" --out "$PHONES"

stop_capf
finish
