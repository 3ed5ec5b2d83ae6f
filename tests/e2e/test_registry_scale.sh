#!/usr/bin/env bash
# Memory of the registry tools does not grow with the registry: lists are
# streamed row by row (JSON written as rows are read) and statements are bound,
# so `device list --json` over 20 000 devices peaks at about the memory of
# 1 000. The 100 000-device figures are in `scripts/bench registry`.
source "$(dirname "$0")/lib.sh"

D=$WORK/capf
adm() { "$LSCGATE" --dir "$D" "$@"; }

# run_measured OUTFILE CMD...: runs CMD with stdout to OUTFILE; sets RSS_KB (peak
# resident set of CMD, from getrusage) and RC.
run_measured() {
    local out=$1
    shift
    read -r RSS_KB RC < <(python3 - "$out" "$@" <<'PY'
import resource, subprocess, sys
with open(sys.argv[1], "wb") as out:
    rc = subprocess.run(sys.argv[2:], stdout=out).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)
PY
)
}

# grow_registry N: devices SEP000000100000.. up to N in all, each with an active
# LSC row (a PEM-sized text) and a pending install, written in one SQL statement
# each (the CLI would take minutes for this many).
grow_registry() {
    local n=$1
    sqlite3 "$D/lscgate.db" <<SQL
BEGIN;
WITH RECURSIVE k(i) AS (SELECT (SELECT count(*) FROM devices) UNION ALL SELECT i + 1 FROM k WHERE i + 1 < $n)
INSERT INTO devices(name, model, description, created_at, updated_at)
  SELECT printf('SEP%012X', 1048576 + i), 'CP-8841', 'bulk', 1700000000, 1700000000 FROM k WHERE i < $n;
INSERT INTO certificates(device_name, kind, serial, fingerprint, subject, issuer, issuer_oneline, not_before, not_after,
                         key_type, key_bits, pem, status, created_at)
  SELECT name, 'lsc', printf('%032X', id), printf('%064X', id), 'CN=' || name, 'CN=CAPF', 'CN=CAPF', 1700000000,
         2000000000, 'ec', 256, hex(randomblob(600)), 'active', 1700000000
  FROM devices WHERE name NOT IN (SELECT device_name FROM certificates);
INSERT INTO operations(device_id, kind, auth_mode, key_type, rsa_bits, ec_curve, state, created_at, updated_at)
  SELECT id, 'install', 'null', 'ec', 0, 'p256', 'pending', 1700000000, 1700000000
  FROM devices WHERE id NOT IN (SELECT device_id FROM operations);
COMMIT;
SQL
}

expect_rc 0 "init" -- "$LSCGATE" init --dir "$D"

declare -A RSS
for n in 1000 20000; do
    grow_registry "$n"
    expect_eq "$(sql "$D/lscgate.db" "SELECT count(*) FROM devices")" "$n" "registry holds $n devices"
    start=$(date +%s.%N)
    run_measured "$WORK/devices-$n.json" "$LSCGATE" --dir "$D" device list --json
    secs=$(python3 -c "import time; print(f'{time.time() - $start:.2f}')")
    expect_eq "$RC" 0 "device list --json over $n devices (peak ${RSS_KB} KB, ${secs} s)"
    RSS[device-$n]=$RSS_KB
    expect_eq "$(python3 -c "import json; j=json.load(open('$WORK/devices-$n.json')); print(len(j), j[-1]['lsc_serial'] is not None, j[-1]['pending_operation'])")" \
        "$n True install" "the JSON lists every device with its LSC and pending operation"
    for list in "cert list" "op list"; do
        # shellcheck disable=SC2086
        run_measured "$WORK/list.json" "$LSCGATE" --dir "$D" $list --json
        expect_eq "$RC" 0 "$list --json over $n devices (peak ${RSS_KB} KB)"
        RSS[$list-$n]=$RSS_KB
        expect_eq "$(python3 -c "import json; print(len(json.load(open('$WORK/list.json'))))")" "$n" "$list lists them all"
    done
done
# Before streaming: ~13 KB per device for device list (1.3 GB at 100 000).
for list in device "cert list" "op list"; do
    grow=$(( ${RSS[$list-20000]} - ${RSS[$list-1000]} ))
    if [ "$grow" -lt 8192 ]; then pass "$list: 19 000 more devices add ${grow} KB (< 8 MB)"
    else failed "$list: 19 000 more devices add ${grow} KB: the list is held in memory"; fi
done

# Scheduling for many devices binds the device id: no prepared statement per device.
names() { python3 -c "print(' '.join('SEP%012X' % (0x100000 + i) for i in range($1)))"; }
# shellcheck disable=SC2046
run_measured "$WORK/op-small.json" "$LSCGATE" --dir "$D" op install $(names 250) --json
expect_eq "$RC" 0 "op install of 250 names (peak ${RSS_KB} KB)"
small=$RSS_KB
# shellcheck disable=SC2046
run_measured "$WORK/op-large.json" "$LSCGATE" --dir "$D" op install $(names 5000) --json
expect_eq "$RC" 0 "op install of 5 000 names (peak ${RSS_KB} KB)"
grow=$((RSS_KB - small))
if [ "$grow" -lt 20480 ]; then pass "op install: 4 750 more names add ${grow} KB (< 20 MB)"
else failed "op install: 4 750 more names add ${grow} KB: memory grows per device"; fi

finish
