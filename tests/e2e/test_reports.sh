#!/usr/bin/env bash
# The fleet reports with the real binary on a real registry (issue 10 item 5):
# phones enrolled through `lscgate serve` + `lscgate phone` (one installed, one
# left unconfirmed, one refused for a wrong authentication string, one pending,
# one never scheduled); `report lsc --csv` read with Python's csv module, its
# columns and each device's values; `report stale --json` lists the unconfirmed
# LSC; `cert purge-stale` revokes it (reason superseded, audited, in the CRL)
# and keeps the row.
source "$(dirname "$0")/lib.sh"

CAPF_DIR=$WORK/capf
DB=$CAPF_DIR/lscgate.db
A=SEP00000000BB01  # installed
B=SEP00000000BB02  # the LSC was sent, the phone never said it stored it: unconfirmed
C=SEP00000000BB03  # wrong authentication string
D=SEP00000000BB04  # never scheduled (a model with a comma and quotes)
E=SEP00000000BB05  # scheduled, the phone never came
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }
has_session() { [ "$(sql "$DB" "SELECT count(*) FROM capf_sessions WHERE device='$1'")" -ge 1 ]; }

expect_rc 0 "init" -- "$LSCGATE" init --dir "$CAPF_DIR"
adm device add "$A" "$B" "$C" "$E" --model CP-8841 >/dev/null
adm device add "$D" --model 'Lobby, "A" 8845' >/dev/null
adm op install "$A" "$B" "$E" --auth null >/dev/null 2>&1
adm op install "$C" --auth string:12345678 >/dev/null 2>&1
start_capf "$CAPF_DIR"
expect_rc 0 "A enrols" -- phone "$A"
# A phone that cannot store what it received hangs up without answering
# STORE_CERTIFICATE_REQUEST: the LSC was recorded before it was sent, and stays
# unconfirmed. (--fault drop-after-keygen drops before the public key is sent, so
# nothing is issued.) Its --out names a file, which no directory can be made in.
: >"$WORK/not-a-directory"
expect_failure "B cannot store its LSC and drops the connection" -- \
    "$LSCGATE" phone --server "127.0.0.1:$CAPF_PORT" --capf-cert "$CAPF_DIR/capf.crt" --name "$B" --out "$WORK/not-a-directory"
expect_failure "C types a wrong authentication string" -- phone "$C" --auth-string 87654321
# Each session's row is written when the server ends it, which may be after the phone gave up.
wait_until 30 "serve recorded B's session" -- has_session "$B"
wait_until 30 "serve recorded C's session" -- has_session "$C"
stop_capf
SERIAL_A=$(sql "$DB" "SELECT serial FROM certificates WHERE device_name='$A' AND status='active'")
SERIAL_B=$(sql "$DB" "SELECT serial FROM certificates WHERE device_name='$B' AND status='unconfirmed'")
expect_eq "$(sql "$DB" "SELECT count(*) FROM certificates WHERE device_name='$B' AND status='unconfirmed'")" 1 \
    "B's LSC is recorded as unconfirmed"

# ---- report lsc --csv, read by Python's csv module ----------------------------------
set +e
adm report lsc --all --csv >"$WORK/lsc.csv" 2>"$WORK/lsc.err"
rc=$?
set -e
expect_eq "$rc" 0 "report lsc --all --csv"
expect_contains "$(cat "$WORK/lsc.err")" "--seen-file" "a note says where last-seen would come from"
expect_rc 0 "the CSV parses with Python's csv module, columns and values per device" -- \
    python3 - "$WORK/lsc.csv" "$A" "$B" "$C" "$D" "$E" "$SERIAL_A" <<'PY'
import csv, sys
path, a, b, c, d, e, serial_a = sys.argv[1:]
with open(path, newline="") as f:
    reader = csv.DictReader(f)
    columns = reader.fieldnames
    rows = {r["device"]: r for r in reader}
want = ["device", "model", "serial", "issuer", "not_after", "days_left", "seen_class", "seen_nas", "seen_at",
        "mic_only", "cause_class", "operation_id", "status"]
assert columns == want, columns
assert sorted(rows) == sorted([a, b, c, d, e]), sorted(rows)
def check(name, **fields):
    for k, v in fields.items():
        assert rows[name][k] == v, (name, k, rows[name][k], v)
check(a, status="Installed", serial=serial_a, model="CP-8841", mic_only="no", seen_class="", cause_class="")
assert rows[a]["issuer"].startswith("CN="), rows[a]["issuer"]
assert rows[a]["not_after"].endswith("Z"), rows[a]["not_after"]
assert int(rows[a]["days_left"]) >= 364, rows[a]["days_left"]
assert rows[b]["status"].startswith("Failed: "), rows[b]["status"]
check(b, serial="", not_after="", days_left="")
assert rows[c]["status"].startswith("Failed: "), rows[c]["status"]
check(c, cause_class="wrong-string")
check(d, status="Not installed", model='Lobby, "A" 8845', operation_id="")
check(e, status="Pending", cause_class="")
assert rows[e]["operation_id"].isdigit(), rows[e]["operation_id"]
print("csv ok:", len(rows), "devices")
PY
expect_contains "$(head -c 200 "$WORK/lsc.csv")" '"device","model"' "every field quoted by libcsv"

expect_rc 0 "report lsc NAME --json" -- bash -c "\"$LSCGATE\" --dir \"$CAPF_DIR\" report lsc $C --json 2>/dev/null"
expect_eq "$(python3 -c 'import json,sys; j=json.load(sys.stdin); print(len(j), j[0]["device"], j[0]["cause_class"], j[0]["mic_only"], j[0]["serial"])' <<<"$OUT")" \
    "1 $C wrong-string False None" "one JSON row, typed values"
expect_rc 0 "report lsc --where lsc=active (text)" -- adm report lsc --where lsc=active
expect_contains "$OUT" "$A" "the installed phone"
expect_contains "$OUT" "Installed" "with its status"
expect_not_contains "$OUT" "$B" "only the selected devices"
expect_rc 1 "report lsc without a selection" -- adm report lsc
expect_contains "$OUT" "--all for every device" "a report says how to name devices, as bulk commands do"
expect_rc 1 "report lsc of an unknown device" -- adm report lsc SEP00000000BB99 --csv
expect_contains "$OUT" "no such device: SEP00000000BB99" "is named"
expect_not_contains "$OUT" '"device"' "and no header is printed"
expect_rc 1 "--json and --csv together" -- adm report lsc --all --json --csv
expect_rc 1 "report foreign needs last-seen" -- adm report foreign
expect_contains "$OUT" "--seen-file" "and says where it comes from"

# ---- report stale, cert purge-stale -------------------------------------------------
expect_rc 0 "report stale --json" -- bash -c "\"$LSCGATE\" --dir \"$CAPF_DIR\" report stale --json"
expect_eq "$(python3 -c 'import json,sys; j=json.load(sys.stdin); print(len(j), j[0]["device"], j[0]["serial"], j[0]["age_days"], j[0]["superseded_by"])' <<<"$OUT")" \
    "1 $B $SERIAL_B 0 None" "lists B's unconfirmed LSC, young, not superseded"
expect_rc 0 "report stale --csv" -- adm report stale --csv
expect_eq "$(python3 -c 'import csv,sys; r=list(csv.DictReader(sys.stdin)); print(len(r), r[0]["device"], r[0]["serial"])' <<<"$OUT")" \
    "1 $B $SERIAL_B" "the same in CSV"
expect_rc 0 "cert purge-stale (default --older-than 7d): nothing that young" -- adm cert purge-stale
expect_contains "$OUT" "1 unconfirmed LSC(s), 0 older than 7d or superseded" "says why nothing was revoked"
expect_rc 0 "cert purge-stale --older-than 0s --dry-run" -- adm cert purge-stale --older-than 0s --dry-run
expect_contains "$OUT" "would revoke $B LSC serial $SERIAL_B" "names what would be revoked"
expect_eq "$(sql "$DB" "SELECT status FROM certificates WHERE serial='$SERIAL_B'")" unconfirmed "a dry run changes nothing"
expect_rc 0 "cert purge-stale --older-than 0s" -- adm cert purge-stale --older-than 0s
expect_contains "$OUT" "revoked $B LSC serial $SERIAL_B" "revokes it"
expect_eq "$(sql "$DB" "SELECT status || ' ' || revocation_reason FROM certificates WHERE serial='$SERIAL_B'")" \
    "revoked superseded" "revoked with reason superseded; the row is kept"
expect_eq "$(sql "$DB" "SELECT count(*) FROM audit WHERE action='certificate.revoke' AND device='$B'")" 1 "audited"
expect_contains "$(openssl crl -inform DER -in "$CAPF_DIR/capf.crl" -noout -text)" "Serial Number: $SERIAL_B" \
    "the CRL lists it"
expect_rc 0 "report stale --json after the purge" -- bash -c "\"$LSCGATE\" --dir \"$CAPF_DIR\" report stale --json"
expect_eq "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$OUT")" 0 "no stale LSC left"
expect_eq "$(sql "$DB" "SELECT status FROM certificates WHERE serial='$SERIAL_A'")" active "A's active LSC untouched"

finish
