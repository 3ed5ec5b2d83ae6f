#!/usr/bin/env bash
# The CAPF's CRL (issue 12 item 1), end to end: phones enrol with [capf]
# crl_url set (their LSCs carry that CRL Distribution Point); `lscgate serve
# --crl-http` serves the CRL at /capf.crl (fetched here over HTTP, once the log
# says it listens); `lscgate revoke` renews it at once; openssl verifies the
# CRL's signature with the CAPF certificate, refuses the revoked LSC with
# -crl_check and accepts the valid one; `lscgate crl --out` writes DER and PEM.
source "$(dirname "$0")/lib.sh"

CAPF_DIR=$WORK/capf
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }
fetch() {  # fetch URL FILE: HTTP GET into FILE; prints the status and content type
    python3 - "$1" "$2" <<'PY'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
    open(sys.argv[2], "wb").write(r.read())
    print(r.status, r.headers.get("Content-Type"))
PY
}

expect_rc 0 "init" -- "$LSCGATE" init --dir "$CAPF_DIR"
CRL_PORT=$(free_port)
URL="http://127.0.0.1:$CRL_PORT/capf.crl"
sed -i "s|^crl_url = \"\"|crl_url = \"$URL\"|" "$CAPF_DIR/lscgate.toml"
expect_contains "$(cat "$CAPF_DIR/lscgate.toml")" "crl_url = \"$URL\"" "[capf] crl_url set"
expect_rc 0 "add devices" -- adm device add SEP0011223344C1 SEP0011223344C2

start_capf "$CAPF_DIR" --crl-http "127.0.0.1:$CRL_PORT"
wait_log "$CAPF_LOG" "crl http listening on 127.0.0.1:$CRL_PORT"
for dev in SEP0011223344C1 SEP0011223344C2; do
    adm op install "$dev" --auth null >/dev/null
    expect_rc 0 "$dev enrols" -- phone "$dev"
done
LSC1=$WORK/phones/SEP0011223344C1.lsc.pem
LSC2=$WORK/phones/SEP0011223344C2.lsc.pem
expect_contains "$(openssl x509 -in "$LSC1" -noout -ext crlDistributionPoints 2>&1)" "URI:$URL" \
    "the new LSC carries the CRL Distribution Point"

expect_rc 0 "GET /capf.crl" -- fetch "$URL" "$WORK/first.crl"
expect_eq "$OUT" "200 application/pkix-crl" "status and content type"
expect_rc 0 "openssl crl -verify -CAfile capf.crt on the served CRL" -- \
    openssl crl -inform DER -in "$WORK/first.crl" -CAfile "$CAPF_DIR/capf.crt" -noout -verify
expect_contains "$OUT" "verify OK" "signed by the CAPF"
FIRST_NUMBER=$(openssl crl -inform DER -in "$WORK/first.crl" -noout -crlnumber | cut -d= -f2)

# ---- revoke: the CRL is renewed at once, and served from the next request ----------
SERIAL2=$(openssl x509 -in "$LSC2" -noout -serial | cut -d= -f2)
expect_rc 0 "revoke SEP0011223344C2" -- adm revoke SEP0011223344C2 --reason key-compromise
expect_contains "$OUT" "CRL " "revoke reports the renewed CRL"
expect_rc 0 "GET /capf.crl after the revocation" -- fetch "$URL" "$WORK/second.crl"
TEXT=$(openssl crl -inform DER -in "$WORK/second.crl" -noout -text)
expect_contains "$TEXT" "Serial Number: $SERIAL2" "the served CRL lists the revoked LSC"
expect_contains "$TEXT" "Key Compromise" "with its reason code"
expect_contains "$TEXT" "X509v3 Authority Key Identifier" "and the CAPF's key identifier"
SECOND_NUMBER=$(openssl crl -inform DER -in "$WORK/second.crl" -noout -crlnumber | cut -d= -f2)
[ $((SECOND_NUMBER)) -gt $((FIRST_NUMBER)) ] && pass "the CRL number grew ($FIRST_NUMBER -> $SECOND_NUMBER)" \
    || failed "CRL number $FIRST_NUMBER -> $SECOND_NUMBER"
NEXT=$(openssl crl -inform DER -in "$WORK/second.crl" -noout -nextupdate | cut -d= -f2)
LAST=$(openssl crl -inform DER -in "$WORK/second.crl" -noout -lastupdate | cut -d= -f2)
expect_eq "$(( $(date -d "$NEXT" +%s) - $(date -d "$LAST" +%s) ))" 604800 "nextUpdate is thisUpdate + [crl] validity"

openssl crl -inform DER -in "$WORK/second.crl" -out "$WORK/second.pem"
expect_failure "openssl verify -crl_check refuses the revoked LSC" -- \
    openssl verify -crl_check -CAfile "$CAPF_DIR/capf.crt" -CRLfile "$WORK/second.pem" "$LSC2"
expect_contains "$OUT" "certificate revoked" "saying it is revoked"
expect_rc 0 "openssl verify -crl_check accepts the valid LSC" -- \
    openssl verify -crl_check -CAfile "$CAPF_DIR/capf.crt" -CRLfile "$WORK/second.pem" "$LSC1"
stop_capf

# ---- lscgate crl ------------------------------------------------------------------
expect_rc 0 "lscgate crl --out FILE (DER)" -- adm crl --out "$WORK/out.crl"
expect_contains "$OUT" "current: number" "not renewed when not due"
expect_rc 0 "the DER copy verifies" -- openssl crl -inform DER -in "$WORK/out.crl" -CAfile "$CAPF_DIR/capf.crt" -noout -verify
expect_rc 0 "lscgate crl --force --pem --out FILE" -- adm crl --force --pem --out "$WORK/out.pem"
expect_contains "$OUT" "renewed: number" "renewed when forced"
expect_contains "$(head -1 "$WORK/out.pem")" "-----BEGIN X509 CRL-----" "PEM"
expect_rc 0 "the PEM copy verifies" -- openssl crl -in "$WORK/out.pem" -CAfile "$CAPF_DIR/capf.crt" -noout -verify
expect_rc 1 "--pem and --der together are refused" -- adm crl --pem --der --out "$WORK/x"

finish
