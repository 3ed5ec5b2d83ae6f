#!/usr/bin/env bash
# lscgate itl show / verify / check-capf on ITL files in the real shapes
# (itl_fixture): exit codes as README documents them, the seed's symptom words,
# a malformed file refused with its byte offset, and check-capf against the
# CAPF certificate of an lscgate directory (--dir) as well as --cert.
source "$(dirname "$0")/lib.sh"

ITL_FIXTURE=${ITL_FIXTURE:?ITL_FIXTURE must point to the itl_fixture tool}
F=$WORK/itl
# jv EXPR: a value of the JSON on stdin, EXPR in Python over d (booleans lower-cased).
jv() { python3 -c 'import json,sys; d=json.load(sys.stdin); v=eval(sys.argv[1]); print(str(v).lower() if isinstance(v,bool) else v)' "$1"; }
"$ITL_FIXTURE" "$F"

# ---- show ---------------------------------------------------------------------
expect_rc 0 "itl show (text)" -- "$LSCGATE" itl show "$F/real.tlv"
expect_contains "$OUT" "Version: 1.2" "header version"
expect_contains "$OUT" "Record #5" "five records"
expect_contains "$OUT" "10.0.0.5" "the record without a certificate shows its address"
expect_contains "$OUT" "This record's certificate signed the file" "the signer record is named"
expect_rc 0 "itl show --json" -- "$LSCGATE" itl show --json "$F/real.tlv"
expect_eq "$(jv '",".join(r["role"] for r in d["records"])' <<<"$OUT")" "SAST,CCM+TFTP,CAPF,TFTP,TVS" "roles in order"
expect_eq "$(jv '[f["sha1"] for f in d["records"][2]["fields"] if f["name"]=="CERTIFICATE"][0]' <<<"$OUT")" \
    "$(openssl x509 -in "$F/capf.pem" -outform DER | openssl dgst -sha1 -r | cut -d' ' -f1 | tr a-f A-F)" \
    "CAPF record's SHA-1 equals openssl's"
expect_rc 0 "itl show on an unsigned file" -- "$LSCGATE" itl show --json "$F/unsigned.tlv"
expect_eq "$(jv 'd["signed"]' <<<"$OUT")" false "unsigned file shown as unsigned"

# ---- malformed ----------------------------------------------------------------
expect_rc 1 "truncated file refused" -- "$LSCGATE" itl show "$F/truncated.tlv"
expect_contains "$OUT" "not a valid ITL/CTL file: byte offset" "message gives the byte offset"
expect_contains "$OUT" "bad-length" "and the fault kind"
head -c 3 /dev/urandom >"$WORK/three-bytes.tlv"
expect_rc 1 "three random bytes refused" -- "$LSCGATE" itl verify "$WORK/three-bytes.tlv"
expect_rc 1 "missing file" -- "$LSCGATE" itl show "$WORK/none.tlv"

# ---- verify -------------------------------------------------------------------
expect_rc 0 "signature of the real-shaped file (SHA-1, 1024-bit)" -- "$LSCGATE" itl verify "$F/real.tlv"
expect_contains "$OUT" "valid" "verdict printed"
expect_rc 2 "tampered file" -- "$LSCGATE" itl verify --json "$F/tampered.tlv"
expect_eq "$(jv 'd["verdict"]' <<<"$OUT")" invalid "tampered file is invalid"
expect_rc 2 "unsigned file" -- "$LSCGATE" itl verify --json "$F/unsigned.tlv"
expect_eq "$(jv 'd["verdict"]' <<<"$OUT")" unsigned "unsigned file says so"

# ---- check-capf -----------------------------------------------------------------
expect_rc 0 "CAPF record is this CAPF (--cert)" -- "$LSCGATE" itl check-capf --cert "$F/capf.pem" "$F/real.tlv"
expect_rc 2 "CAPF record is another certificate" -- "$LSCGATE" itl check-capf --cert "$F/capf.pem" "$F/other-capf.tlv"
expect_contains "$OUT" "LSC: Connection Failed" "symptom of a wrong CAPF named"
expect_rc 3 "no CAPF record" -- "$LSCGATE" itl check-capf --cert "$F/capf.pem" --json "$F/no-capf.tlv"
expect_eq "$(jv 'd["verdict"]' <<<"$OUT")" missing "missing CAPF record"
# Against an lscgate directory: its CAPF is neither of the fixture's.
expect_rc 0 "init" -- "$LSCGATE" init --dir "$WORK/capf"
expect_rc 2 "check-capf with --dir: the ITL names another CAPF" -- "$LSCGATE" --dir "$WORK/capf" itl check-capf "$F/real.tlv"
expect_rc 1 "check-capf without a CAPF certificate" -- "$LSCGATE" --dir "$WORK/nothing" itl check-capf "$F/real.tlv"

finish
