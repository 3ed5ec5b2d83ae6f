#!/usr/bin/env bash
# The CAPF's CRL (issue 12 item 1), end to end: phones enrol with [capf]
# crl_url set (their LSCs carry that CRL Distribution Point); `lscgate serve
# --crl-http` serves the CRL at /capf.crl (fetched here over HTTP, once the log
# says it listens); `lscgate revoke` renews it at once; openssl verifies the
# CRL's signature with the CAPF certificate, refuses the revoked LSC with
# -crl_check and accepts the valid one; `lscgate crl --out` writes DER and PEM.
# Issue 12 review: a SIGHUP rotation moves the CRL to the new CAPF; each CAPF
# (also one re-keyed under the same name) lists its own LSCs in a CRL signed by
# its own key, and a previous CAPF without its key says which revocations cannot
# be published; a CAPF without cRLSign is flagged; `lscgate check` grades the
# CRL's nextUpdate.
source "$(dirname "$0")/lib.sh"

CAPF_DIR=$WORK/capf
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }
sha16() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | cut -c1-16; }
# capf_cert NAME SUBJECT KEYUSAGE: a self-signed CAPF certificate WORK/NAME.crt, its key WORK/NAME.key
capf_cert() {
    cat >"$WORK/$1.cnf" <<CNF
[req]
distinguished_name = dn
x509_extensions = ext
prompt = no
[dn]
CN = unused
[ext]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,$3
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF
    openssl req -x509 -config "$WORK/$1.cnf" -newkey rsa:2048 -nodes -keyout "$WORK/$1.key" -out "$WORK/$1.crt" \
        -days 365 -subj "$2" 2>/dev/null
}
# old_crl FILE LASTUPDATE NEXTUPDATE: a CRL (DER) signed by the current CAPF key with those times (YYYYMMDDHHMMSSZ)
old_crl() {
    mkdir -p "$WORK/ca" && : >"$WORK/ca/index.txt" && echo 01 >"$WORK/ca/crlnumber"
    cat >"$WORK/ca/ca.cnf" <<CNF
[ca]
default_ca = c
[c]
database = $WORK/ca/index.txt
crlnumber = $WORK/ca/crlnumber
default_md = sha256
crl_extensions = crl_ext
[crl_ext]
authorityKeyIdentifier = keyid:always
CNF
    openssl ca -gencrl -config "$WORK/ca/ca.cnf" -keyfile "$CAPF_DIR/capf.key" -cert "$CAPF_DIR/capf.crt" \
        -crl_lastupdate "$2" -crl_nextupdate "$3" -out "$WORK/ca/crl.pem" 2>/dev/null &&
        openssl crl -in "$WORK/ca/crl.pem" -outform DER -out "$1"
}
fetch() {  # fetch URL FILE: HTTP GET into FILE; prints the status and content type
    python3 - "$1" "$2" <<'PY'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
    open(sys.argv[2], "wb").write(r.read())
    print(r.status, r.headers.get("Content-Type"))
PY
}

expect_rc 0 "init" -- "$LSCGATE" init --dir "$CAPF_DIR" --subject "CN=CAPF-crl-e2e,OU=Voice,O=Example"
expect_contains "$(openssl x509 -in "$CAPF_DIR/capf.crt" -noout -ext keyUsage)" "Certificate Sign, CRL Sign" \
    "init's CAPF may sign CRLs (keyUsage keyCertSign, cRLSign)"
sed -i 's/^refresh = 60 /refresh = 1 /' "$CAPF_DIR/lscgate.toml"  # serve checks the registry every second
expect_contains "$(cat "$CAPF_DIR/lscgate.toml")" "refresh = 1 " "[crl] refresh = 1"
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

# ---- a SIGHUP rotation: the CRL follows the new CAPF --------------------------------
OLD_SHA16=$(sha16 "$CAPF_DIR/capf.crt")
cp "$CAPF_DIR/capf.crt" "$WORK/old.crt"
expect_rc 0 "rotate the CAPF (init --force) while serve runs" -- "$LSCGATE" init --dir "$CAPF_DIR" --force
expect_contains "$OUT" "kept the previous CAPF key as $CAPF_DIR/capf-$OLD_SHA16.key (0600)" \
    "the rotation keeps the old CAPF's key for its CRL"
expect_eq "$(stat -c %a "$CAPF_DIR/capf-$OLD_SHA16.key")" 600 "the kept key is 0600"
kill -HUP "$CAPF_PID"
wait_log "$CAPF_LOG" "capf configuration reloaded (SIGHUP)"
# The CRL service renews on its own thread after the reload; a line is logged
# once its CRL is published (the old CAPF's file is new, so it is "renewed").
wait_log "$CAPF_LOG" "crl $CAPF_DIR/capf-$OLD_SHA16.crl renewed"
expect_rc 0 "GET /capf.crl after the reload" -- fetch "$URL" "$WORK/rotated.crl"
expect_rc 0 "the served CRL is signed by the new CAPF" -- \
    openssl crl -inform DER -in "$WORK/rotated.crl" -CAfile "$CAPF_DIR/capf.crt" -noout -verify
expect_rc 0 "[crl] file is signed by the new CAPF" -- \
    openssl crl -inform DER -in "$CAPF_DIR/capf.crl" -CAfile "$CAPF_DIR/capf.crt" -noout -verify
expect_not_contains "$(openssl crl -inform DER -in "$WORK/rotated.crl" -noout -text)" "Serial Number: $SERIAL2" \
    "the new CAPF's CRL does not list the old CAPF's LSC"
expect_rc 0 "the old CAPF's CRL is served under its own name" -- fetch "http://127.0.0.1:$CRL_PORT/capf-$OLD_SHA16.crl" "$WORK/old.crl"
expect_rc 0 "signed by the old CAPF" -- openssl crl -inform DER -in "$WORK/old.crl" -CAfile "$WORK/old.crt" -noout -verify
openssl crl -inform DER -in "$WORK/old.crl" -out "$WORK/old.pem"
expect_failure "openssl verify -crl_check refuses the old CAPF's revoked LSC with its CRL" -- \
    openssl verify -crl_check -CAfile "$WORK/old.crt" -CRLfile "$WORK/old.pem" "$LSC2"
expect_contains "$OUT" "certificate revoked" "saying it is revoked"
expect_rc 0 "the file is capf-<SHA16>.crl beside capf.crl" -- test -f "$CAPF_DIR/capf-$OLD_SHA16.crl"
# Without its key the old CAPF gets no CRL, and serve says which revocations are left out.
mv "$CAPF_DIR/capf-$OLD_SHA16.key" "$WORK/old.key"
wait_log "$CAPF_LOG" "crl warning: previous CAPF CN=CAPF-crl-e2e,OU=Voice,O=Example (SHA-256 $OLD_SHA16): 1 revocation cannot be published ($SERIAL2 SEP0011223344C2): its key is not available"
expect_rc 0 "lscgate crl says the same" -- adm crl
expect_contains "$OUT" "1 revocation cannot be published ($SERIAL2 SEP0011223344C2)" "naming the revocation left out"
status_of() {  # status_of URL: the HTTP status a GET gets (a refused connection is no status)
    python3 - "$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=10).status)
except urllib.error.HTTPError as e:
    print(e.code)
PY
}
export -f status_of
wait_until 30 "no CRL is served for the old CAPF without its key (404)" -- \
    bash -c '[ "$("$1" "$2")" = 404 ]' _ status_of "http://127.0.0.1:$CRL_PORT/capf-$OLD_SHA16.crl" &&
    pass "no CRL is served for the old CAPF without its key (404)"
install -m 600 "$WORK/old.key" "$CAPF_DIR/capf-$OLD_SHA16.key"
wait_until 30 "the old CAPF's CRL is served again with its key back" -- fetch "http://127.0.0.1:$CRL_PORT/capf-$OLD_SHA16.crl" "$WORK/old.crl" &&
    pass "the old CAPF's CRL is served again with its key back"

# An LSC of the new CAPF, revoked, for the same-name re-key below.
adm device add SEP0011223344C3 >/dev/null
adm op install SEP0011223344C3 --auth null >/dev/null
expect_rc 0 "SEP0011223344C3 enrols with the new CAPF" -- phone SEP0011223344C3
SERIAL3=$(openssl x509 -in "$WORK/phones/SEP0011223344C3.lsc.pem" -noout -serial | cut -d= -f2)
expect_rc 0 "revoke SEP0011223344C3" -- adm revoke SEP0011223344C3
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

# ---- lscgate check: the CRL's nextUpdate ----------------------------------------------
expect_rc 0 "lscgate check: a fresh CRL is OK" -- adm check
expect_contains "$OUT" "CRL $CAPF_DIR/capf" "the CRLs are in the summary"
expect_contains "$OUT" "next update in" "with their next update"
expect_contains "$OUT" "crl_min_hours=" "and in the performance data"
cp "$CAPF_DIR/capf.crl" "$WORK/fresh.crl"
old_crl "$CAPF_DIR/capf.crl" "$(date -u -d '-8 days' +%Y%m%d%H%M%SZ)" "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)"
expect_rc 2 "lscgate check: a CRL past its nextUpdate is CRITICAL" -- adm check
expect_contains "$OUT" "LSCGATE CRITICAL - " "CRITICAL"
expect_contains "$OUT" "nextUpdate passed" "saying the CRL's nextUpdate passed"
old_crl "$CAPF_DIR/capf.crl" "$(date -u -d '-6 days' +%Y%m%d%H%M%SZ)" "$(date -u -d '+2 hours' +%Y%m%d%H%M%SZ)"
expect_rc 1 "lscgate check: a CRL within a quarter of its validity of nextUpdate is WARNING" -- adm check
expect_contains "$OUT" "LSCGATE WARNING - " "WARNING"
expect_contains "$OUT" "it is not being renewed" "saying it is not being renewed"
echo "not a CRL" >"$CAPF_DIR/capf.crl"
expect_rc 2 "lscgate check: an unreadable CRL is CRITICAL, not UNKNOWN" -- adm check
expect_contains "$OUT" "LSCGATE CRITICAL - " "CRITICAL"
expect_contains "$OUT" "CRL $CAPF_DIR/capf.crl unreadable (" "naming the file"
cp "$WORK/fresh.crl" "$CAPF_DIR/capf.crl"

# ---- a CAPF re-keyed under the same name: each CRL lists its own LSCs -------------------
CN=$(openssl x509 -in "$CAPF_DIR/capf.crt" -noout -subject -nameopt RFC2253 | sed 's/.*CN=\([^,]*\).*/\1/')
capf_cert same "/O=Example/OU=Voice/CN=$CN" "digitalSignature,keyCertSign,cRLSign"
ROTATED_SHA16=$(sha16 "$CAPF_DIR/capf.crt")
cp "$CAPF_DIR/capf.crt" "$WORK/rotated.crt"
expect_eq "$(openssl x509 -in "$WORK/same.crt" -noout -subject_hash)" "$(openssl x509 -in "$CAPF_DIR/capf.crt" -noout -subject_hash)" \
    "the re-keyed CAPF has its predecessor's name (canonical subject hash)"
expect_rc 0 "import a CAPF with the current one's name and another key" -- \
    adm capf import --cert "$WORK/same.crt" --key "$WORK/same.key"
expect_not_contains "$OUT" "cRLSign" "no cRLSign warning for a CAPF that has it"
expect_contains "$OUT" "kept the previous CAPF key as $CAPF_DIR/capf-$ROTATED_SHA16.key" "import keeps the replaced CAPF's key too"
expect_rc 0 "lscgate crl --force after the same-name re-key" -- adm crl --force --out "$WORK/same.crl"
expect_not_contains "$(openssl crl -inform DER -in "$WORK/same.crl" -noout -text)" "Serial Number: $SERIAL3" \
    "the re-keyed CAPF's CRL does not list the LSC of its same-name predecessor"
expect_rc 0 "its CRL verifies with the re-keyed CAPF" -- \
    openssl crl -inform DER -in "$WORK/same.crl" -CAfile "$WORK/same.crt" -noout -verify
expect_contains "$OUT" "verify OK" "signed by the re-keyed CAPF"
expect_rc 0 "the predecessor's CRL is signed by the predecessor" -- \
    openssl crl -inform DER -in "$CAPF_DIR/capf-$ROTATED_SHA16.crl" -CAfile "$WORK/rotated.crt" -noout -verify
expect_contains "$(openssl crl -inform DER -in "$CAPF_DIR/capf-$ROTATED_SHA16.crl" -noout -text)" "Serial Number: $SERIAL3" \
    "and lists its revoked LSC"
expect_rc 0 "retire the predecessor" -- adm capf retire "$ROTATED_SHA16"
expect_contains "$OUT" "deleted its kept key $CAPF_DIR/capf-$ROTATED_SHA16.key" "retire deletes its kept key"
expect_rc 1 "the kept key is gone" -- test -e "$CAPF_DIR/capf-$ROTATED_SHA16.key"
expect_rc 0 "lscgate crl after the retirement" -- adm crl
expect_not_contains "$OUT" "capf-$ROTATED_SHA16" "a retired CAPF gets no CRL"

# ---- a CAPF without cRLSign ---------------------------------------------------------
capf_cert nocrl "/O=Example/OU=Voice/CN=CAPF-no-crlsign" "digitalSignature,keyCertSign"
expect_rc 0 "capf import of a CAPF without cRLSign (imported, with a warning)" -- \
    adm capf import --cert "$WORK/nocrl.crt" --key "$WORK/nocrl.key"
expect_contains "$OUT" "keyUsage lacks cRLSign" "import warns that it cannot sign CRLs"
expect_rc 1 "lscgate crl refuses to sign with it" -- adm crl
expect_contains "$OUT" "keyUsage lacks cRLSign" "saying why"
expect_contains "$OUT" "keyUsage keyCertSign, cRLSign" "and the fix"
expect_rc 0 "the CRL was not replaced by one it signed" -- \
    openssl crl -inform DER -in "$CAPF_DIR/capf.crl" -CAfile "$WORK/same.crt" -noout -verify

finish
