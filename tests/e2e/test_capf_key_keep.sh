#!/usr/bin/env bash
# A CAPF rotation keeps the replaced CAPF's key for its CRL, or does not rotate
# (issue 12 review): `init --force` and `capf import` stop, changing nothing,
# when that key cannot be kept (missing, another certificate's); with
# --discard-previous-key (the key is lost or compromised) they rotate and say
# what is given up; a re-issued certificate with the same key keeps no second
# copy, and that key goes on signing the previous certificate's CRL.
# (Not covered here: a kept-key directory this process cannot read, EACCES:
# the tests run as root, which reads anything; capf/crl_scope.cpp reports the
# error text instead of "no such file".)
source "$(dirname "$0")/lib.sh"

CAPF_DIR=$WORK/capf
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }
sha16() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | cut -c1-16; }
sha_of() { sha256sum "$1" | cut -d' ' -f1; }
kept_keys() { find "$CAPF_DIR" -maxdepth 1 -name 'capf-*.key' | wc -l; }

expect_rc 0 "init" -- "$LSCGATE" init --dir "$CAPF_DIR" --subject "CN=CAPF-keep-a,OU=Voice,O=Example"
A_SHA16=$(sha16 "$CAPF_DIR/capf.crt")
CERT_BEFORE=$(sha_of "$CAPF_DIR/capf.crt")

# ---- the old key is another certificate's: nothing rotates ------------------------------------
cp "$CAPF_DIR/capf.key" "$WORK/a.key"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$CAPF_DIR/capf.key" 2>/dev/null
chmod 600 "$CAPF_DIR/capf.key"
KEY_BEFORE=$(sha_of "$CAPF_DIR/capf.key")
expect_failure "init --force refuses when the replaced CAPF's key cannot be kept" -- \
    "$LSCGATE" init --dir "$CAPF_DIR" --force
expect_contains "$OUT" "is another certificate's key" "saying why"
expect_contains "$OUT" "--discard-previous-key" "and naming the way out"
expect_eq "$(sha_of "$CAPF_DIR/capf.crt")" "$CERT_BEFORE" "the CAPF certificate is unchanged"
expect_eq "$(sha_of "$CAPF_DIR/capf.key")" "$KEY_BEFORE" "the key file is unchanged"
expect_eq "$(kept_keys)" 0 "no capf-*.key was written"
expect_rc 0 "capf show --json" -- adm capf show --json
expect_eq "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("CN=CAPF-keep-a" in d["subject"], len(d["history"]))' "$OUT")" \
    "True 1" "the CAPF in use is still the first one, and the registry holds no other"

# capf import of another CAPF refuses the same way.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/b.key" -out "$WORK/b.crt" -days 365 \
    -subj "/CN=CAPF-keep-b/OU=Voice/O=Example" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
expect_failure "capf import refuses too" -- adm capf import --cert "$WORK/b.crt" --key "$WORK/b.key"
expect_contains "$OUT" "is another certificate's key" "saying why"
expect_eq "$(sha_of "$CAPF_DIR/capf.crt")" "$CERT_BEFORE" "the CAPF certificate is unchanged"

# ---- --discard-previous-key: rotates, and says what is given up -------------------------------
expect_rc 0 "init --force --discard-previous-key rotates" -- \
    "$LSCGATE" init --dir "$CAPF_DIR" --force --discard-previous-key
expect_contains "$OUT" "the previous CAPF key was discarded (--discard-previous-key)" "saying the key was not kept"
expect_contains "$OUT" "can no longer be published in a CRL" "and what that costs"
expect_eq "$(kept_keys)" 0 "no capf-*.key was written"
expect_rc 0 "lscgate crl" -- adm crl
expect_contains "$OUT" "$A_SHA16" "lscgate crl names the old CAPF, which has no CRL"

# ---- a normal rotation keeps the key --------------------------------------------------------
C_SHA16=$(sha16 "$CAPF_DIR/capf.crt")
expect_rc 0 "init --force keeps the replaced key" -- "$LSCGATE" init --dir "$CAPF_DIR" --force
expect_contains "$OUT" "kept the previous CAPF key as $CAPF_DIR/capf-$C_SHA16.key (0600)" "where it was kept"
expect_eq "$(stat -c %a "$CAPF_DIR/capf-$C_SHA16.key")" 600 "0600"

# ---- a re-issued certificate with the same key: nothing kept, its CRL still signed ----------
D_SHA16=$(sha16 "$CAPF_DIR/capf.crt")
cp "$CAPF_DIR/capf.crt" "$WORK/d.crt"
openssl req -x509 -key "$CAPF_DIR/capf.key" -out "$WORK/d2.crt" -days 400 \
    -subj "/CN=CAPF-keep-d2/OU=Voice/O=Example" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
BEFORE=$(kept_keys)
expect_rc 0 "capf import of a renewal with the same key" -- adm capf import --cert "$WORK/d2.crt" --key "$CAPF_DIR/capf.key"
expect_contains "$OUT" "has the same key as the new one" "saying nothing needs keeping"
expect_eq "$(kept_keys)" "$BEFORE" "no second copy of the key"
expect_not_contains "$(ls "$CAPF_DIR")" "capf-$D_SHA16.key" "in particular none for the renewed certificate"
expect_rc 0 "lscgate crl --force renews every CRL" -- adm crl --force
expect_rc 0 "the renewed certificate's predecessor has its CRL" -- test -f "$CAPF_DIR/capf-$D_SHA16.crl"
expect_rc 0 "signed with the shared key (verified with the old certificate)" -- \
    openssl crl -inform DER -in "$CAPF_DIR/capf-$D_SHA16.crl" -CAfile "$WORK/d.crt" -noout -verify

# ---- doctor names the kept keys' troubles ------------------------------------------------------
doctor_checks() { "$LSCGATE" --dir "$CAPF_DIR" doctor --no-serve --json | python3 -c '
import json, sys
for f in json.load(sys.stdin)["findings"]:
    print(f["check"], f.get("severity", ""), f.get("cause", ""))'; }
expect_contains "$(doctor_checks)" "capf.previous-key-missing" "doctor: a previous CAPF without its key gets no CRL"
expect_contains "$(doctor_checks | grep previous-key-missing)" "$A_SHA16" "naming the first CAPF"
expect_not_contains "$(doctor_checks | grep previous-key-missing)" "$D_SHA16" \
    "not the renewed certificate, whose key is the configured one"
cp "$CAPF_DIR/capf-$C_SHA16.key" "$CAPF_DIR/capf-00000000000000AB.key"
expect_contains "$(doctor_checks)" "capf.kept-key-unknown" "doctor: a kept key of no CAPF in the registry"
rm "$CAPF_DIR/capf-00000000000000AB.key"
chmod 644 "$CAPF_DIR/capf-$C_SHA16.key"
expect_contains "$(doctor_checks)" "capf.kept-key-mode" "doctor: a kept key others can read"
chmod 600 "$CAPF_DIR/capf-$C_SHA16.key"
cp "$CAPF_DIR/capf-$C_SHA16.key" "$WORK/c.key"
expect_rc 0 "retire the rotated CAPF" -- adm capf retire "$C_SHA16"
expect_contains "$OUT" "deleted its kept key $CAPF_DIR/capf-$C_SHA16.key" "retire deletes its kept key"
install -m 600 "$WORK/c.key" "$CAPF_DIR/capf-$C_SHA16.key"
expect_contains "$(doctor_checks)" "capf.kept-key-retired" "doctor: a kept key of a retired CAPF"

finish
