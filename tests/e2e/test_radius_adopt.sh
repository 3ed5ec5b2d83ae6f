#!/usr/bin/env bash
# Adopting LSCs already on phones (issue 10 item 8), end to end with FreeRADIUS
# 3.2 + rlm_lscgate and eapol_test: registry A (the old cluster's CAPF) enrols a
# phone, which keeps its LSC and key (`lscgate phone --out`). A fresh registry B
# imports A's CAPF certificate and key (`capf import`: A's CAPF becomes B's
# current one), adds the device and schedules `op fetch`; the phone's CAPF
# session against B's `lscgate serve` presents its LSC and the fetch records it.
# Before `cert adopt` FreeRADIUS on registry B refuses that LSC (only fetched,
# lsc-unregistered); after it, the same LSC and key pass EAP-TLS, recorded by
# last-seen as lsc-valid — without a new key. Then A's CAPF is rotated out and
# retired in B: the adopted LSC is from a CAPF B no longer trusts, and `report
# foreign` lists the phone RADIUS saw with it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/radius_lib.sh"
require_radius_prerequisites

A_DIR=$WORK/cluster
B_DIR=$WORK/lscgate
B_DB=$B_DIR/lscgate.db
SEEN=$WORK/seen/last-seen.db
PHONE=SEP00000000CC01
OTHER=SEP00000000CC02  # registered in B, never fetched
adm_a() { "$LSCGATE" --dir "$A_DIR" "$@"; }
adm_b() { "$LSCGATE" --dir "$B_DIR" "$@"; }
sha256_of_cert() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d :; }

# ---- registry A: the phone enrols; its LSC and key stay in $WORK/phones ------------
expect_rc 0 "init registry A (the old cluster's CAPF)" -- "$LSCGATE" init --dir "$A_DIR" --subject "CN=CAPF-cluster,O=Example"
adm_a device add "$PHONE" --model CP-8841 >/dev/null
adm_a op install "$PHONE" --auth null --key ec:p256 >/dev/null 2>&1
CAPF_DIR=$A_DIR  # phone() trusts $CAPF_DIR/capf.crt
start_capf "$A_DIR"
expect_rc 0 "the phone enrols with CAPF A" -- phone "$PHONE"
stop_capf
LSC=$WORK/phones/$PHONE.lsc.pem
LSC_KEY=$WORK/phones/$PHONE.lsc.key
LSC_SHA=$(sha256_of_cert "$LSC")
KEY_SHA=$(sha256sum "$LSC_KEY" | cut -d' ' -f1)
SERIAL=$(openssl x509 -in "$LSC" -noout -serial | sed 's/^serial=//')

# ---- registry B: init, import A's CAPF, fetch the phone's LSC ----------------------
expect_rc 0 "init registry B" -- "$LSCGATE" init --dir "$B_DIR"
expect_rc 0 "capf import of A's CAPF certificate and key into B" -- \
    adm_b capf import --cert "$A_DIR/capf.crt" --key "$A_DIR/capf.key"
expect_eq "$(sql "$B_DB" "SELECT group_concat(status) FROM capf_certificates ORDER BY id")" "previous,current" \
    "A's CAPF is B's current CAPF, B's own the previous one"
expect_rc 0 "device add in B" -- adm_b device add "$PHONE" "$OTHER" --model CP-8841
expect_rc 0 "op fetch" -- adm_b op fetch "$PHONE"
CAPF_DIR=$B_DIR
start_capf "$B_DIR"
expect_rc 0 "the phone's CAPF session against B presents its LSC" -- phone "$PHONE"
expect_contains "$OUT" "fetched" "the phone answered the fetch"
stop_capf
expect_eq "$(sql "$B_DB" "SELECT status || ' ' || kind || ' ' || fingerprint FROM certificates WHERE device_name='$PHONE'")" \
    "fetched lsc $LSC_SHA" "B recorded the phone's LSC as fetched"

# ---- before adopt: FreeRADIUS on registry B refuses it ----------------------------
start_lab "$WORK/lab" "$B_DIR" --last-seen "$SEEN" || { failed "radius-lab did not start"; finish; exit 1; }
eapol_conf lsc "$PHONE" "$LSC" "$LSC_KEY"
expect_failure "before adopt: EAP-TLS with the fetched LSC is refused" -- eapol lsc
expect_not_contains "$OUT" "CTRL-EVENT-EAP-SUCCESS" "no EAP success"
expect_contains "$(cat "$LOG")" "reject [lsc-unregistered] $PHONE: " "log: lsc-unregistered"
expect_contains "$(cat "$LOG")" "chains to CN=CAPF-cluster,O=Example but is not in the registry" \
    "a fetched certificate is not a registered LSC"

# ---- cert adopt ----------------------------------------------------------------------
expect_rc 2 "cert adopt of a device without a fetched LSC is refused" -- adm_b cert adopt "$OTHER"
expect_contains "$OUT" "refused $OTHER: no fetched LSC" "with the reason"
expect_rc 1 "cert adopt without a device" -- adm_b cert adopt
expect_rc 0 "cert adopt --dry-run" -- adm_b cert adopt "$PHONE" --dry-run
expect_contains "$OUT" "would adopt $PHONE LSC serial $SERIAL" "names the LSC"
expect_eq "$(sql "$B_DB" "SELECT status FROM certificates WHERE device_name='$PHONE'")" fetched "a dry run changes nothing"
expect_rc 0 "cert adopt NAME" -- adm_b cert adopt "$PHONE"
expect_contains "$OUT" "adopted $PHONE LSC serial $SERIAL" "adopted"
expect_eq "$(sql "$B_DB" "SELECT status || ' ' || fingerprint FROM certificates WHERE device_name='$PHONE' AND kind='lsc'")" \
    "active $LSC_SHA" "the phone's own LSC is B's active LSC of the device"
expect_eq "$(sql "$B_DB" "SELECT count(*) FROM audit WHERE device='$PHONE' AND action LIKE '%adopt%'")" 1 "audited"

# ---- after adopt: accepted as lsc-valid, without a new key ---------------------------
expect_rc 0 "after adopt: EAP-TLS with the same LSC succeeds" -- eapol lsc
expect_contains "$OUT" "CTRL-EVENT-EAP-SUCCESS" "EAP success"
expect_eq "$(sha256sum "$LSC_KEY" | cut -d' ' -f1)" "$KEY_SHA" "the phone's key is the one A's enrolment made"
expect_eq "$(sha256_of_cert "$LSC")" "$LSC_SHA" "and its LSC the one A issued"
expect_eq "$(sql "$B_DB" "SELECT count(*) FROM certificates WHERE device_name='$PHONE'")" 1 "B issued nothing"
expect_eq "$(cat "$PIDFILE")" "$FR_PID" "same FreeRADIUS process throughout (no restart)"
stop_lab "$WORK/lab"  # writes last-seen out
expect_rc 0 "report lsc with the node's last-seen" -- \
    bash -c "\"$LSCGATE\" --dir \"$B_DIR\" report lsc $PHONE --seen-file \"$SEEN\" --json 2>/dev/null"
expect_eq "$(python3 -c 'import json,sys; j=json.load(sys.stdin)[0]; print(j["status"], j["serial"], j["seen_class"], j["mic_only"])' <<<"$OUT")" \
    "Installed $SERIAL lsc-valid False" "RADIUS's last decision for the phone: lsc-valid"

# ---- A's CAPF rotated out and retired in B: the adopted LSC becomes foreign ----------
expect_rc 0 "rotate B's CAPF (A's becomes previous)" -- "$LSCGATE" init --dir "$B_DIR" --force
A_SHA=$(sha256_of_cert "$A_DIR/capf.crt")
expect_rc 0 "retire A's CAPF in B" -- adm_b capf retire "$A_SHA"
start_lab "$WORK/lab2" "$B_DIR" --last-seen "$SEEN" || { failed "radius-lab did not start again"; finish; exit 1; }
expect_failure "VPN request for the phone whose LSC is from a retired CAPF is rejected" -- vpn "$PHONE"
expect_contains "$(cat "$LOG")" "reject [lsc-foreign] $PHONE" "log: lsc-foreign"
stop_lab "$WORK/lab2"
expect_rc 0 "report foreign --csv" -- \
    bash -c "\"$LSCGATE\" --dir \"$B_DIR\" report foreign --seen-file \"$SEEN\" --csv >\"$WORK/foreign.csv\""
expect_rc 0 "report foreign lists the phone with the CAPF that issued its LSC" -- \
    python3 - "$WORK/foreign.csv" "$PHONE" <<'PY'
import csv, sys
with open(sys.argv[1], newline="") as f:
    rows = list(csv.DictReader(f))
assert [r["device"] for r in rows] == [sys.argv[2]], rows
r = rows[0]
assert r["registered"] == "yes" and r["model"] == "CP-8841", r
assert "CAPF-cluster" in r["issuer"], r
assert "no longer trusted" in r["reason"], r
assert r["seen_at"].endswith("Z"), r
print("foreign ok:", r["issuer"])
PY

finish
