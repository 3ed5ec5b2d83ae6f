#!/usr/bin/env bash
# Fleet operations from the command line (issue 10 items 1, 2 and 6), with the
# real binary on a real registry: `--from FILE|-` (BAT custom file and phone
# export CSV), `--where` / `--all` / `--dry-run`, and `lscgate check`'s exit
# codes 0/1/2 (3 when it cannot check) and `serve`'s CAPF expiry warning.
source "$(dirname "$0")/lib.sh"

CAPF_DIR=$WORK/capf
DB=$CAPF_DIR/lscgate.db
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }
count() { sql "$DB" "$1"; }
pending_ops() { count "SELECT count(*) FROM operations WHERE state='pending'"; }

expect_rc 0 "init" -- "$LSCGATE" init --dir "$CAPF_DIR"

# ---- --from: a BAT phone export (BOM, CRLF, RFC 4180 quoting) ------------------
printf '\xef\xbb\xbfDevice Name,Description,Device Pool,Device Type\r\n' >"$WORK/export.csv"
printf '"sep001100000001","Lobby, ground floor ""A""",Default,Cisco 8841\r\n' >>"$WORK/export.csv"
printf 'SEP001100000002,"Two\r\nlines",Default,Cisco 8845\r\n' >>"$WORK/export.csv"
printf 'SEP001100000003,Reception,Default,Cisco 8841\r\n\r\n' >>"$WORK/export.csv"
expect_rc 0 "device add --from a BAT export" -- adm device add --from "$WORK/export.csv" --model CP-7841
expect_eq "$(count "SELECT model||'|'||description FROM devices WHERE name='SEP001100000001'")" \
    'Cisco 8841|Lobby, ground floor "A"' "Device Type and a quoted Description with a comma and doubled quotes"
expect_eq "$(count "SELECT count(*) FROM devices WHERE description='Two'||char(13,10)||'lines'")" 1 \
    "a quoted line break is kept in the description"
expect_contains "$(adm device list)" 'SEP001100000002      Cisco 8845   no LSC                 -            Two\r\nlines' \
    "device list shows it escaped, on the device's own row"
expect_eq "$(count "SELECT count(*) FROM devices")" 3 "three devices, the lower-case sep… name normalised"
expect_rc 1 "the same export again" -- adm device add --from "$WORK/export.csv"
expect_contains "$OUT" "export.csv:2: device SEP001100000001 already exists (nothing was added)" \
    "an already registered device is named with its line"

# ---- the rules: empty, header-only, blank-only; duplicates; bad line 537 ------
: >"$WORK/empty.txt"
expect_rc 1 "an empty file" -- adm op install --from "$WORK/empty.txt"
expect_contains "$OUT" "$WORK/empty.txt: no devices in input" "is 'no devices in input', never every device"
printf 'Device Name,Description\r\n' >"$WORK/header.csv"
expect_rc 1 "a header only" -- adm op install --from "$WORK/header.csv"
expect_contains "$OUT" "no devices in input" "header only"
printf '\n\r\n   \n' >"$WORK/blank.txt"
expect_rc 1 "only blank lines" -- adm device add --from "$WORK/blank.txt"
expect_contains "$OUT" "no devices in input" "blank lines only"
expect_rc 1 "empty standard input" -- bash -c "\"$LSCGATE\" --dir \"$CAPF_DIR\" op install --from - </dev/null"
expect_contains "$OUT" "standard input: no devices in input" "stdin is named"
expect_eq "$(pending_ops)" 0 "nothing was scheduled by empty inputs"

python3 - "$WORK/custom-600.txt" <<'PY'
import sys
with open(sys.argv[1], "w", newline="") as f:
    for i in range(1, 601):
        f.write(("SEP00112233445G" if i == 537 else "SEP%012X" % (0xA00000 + i)) + "\r\n")
PY
expect_rc 1 "600-line custom file with a bad name on line 537" -- adm device add --from "$WORK/custom-600.txt"
expect_contains "$OUT" "custom-600.txt:537: " "the line is named"
expect_contains "$OUT" "(nothing was added)" "the whole batch is refused"
expect_eq "$(count "SELECT count(*) FROM devices")" 3 "no device of it was added"
sed -i '537s/.*/SEP000000A00219\r/' "$WORK/custom-600.txt"
expect_rc 0 "the fixed file adds 600 devices" -- adm device add --from "$WORK/custom-600.txt"
expect_eq "$(count "SELECT count(*) FROM devices")" 603 "all of them"

printf 'SEP001100000001\nsep001100000002\nSEP001100000099\n' >"$WORK/unknown.txt"
expect_rc 1 "an unknown device on line 3" -- adm op install --from "$WORK/unknown.txt"
expect_contains "$OUT" "unknown.txt:3: no such device: SEP001100000099" "names the line of the unknown device"
expect_eq "$(pending_ops)" 0 "nothing was scheduled"

printf 'SEP001100000001\r\nsep001100000002\r\nSEP001100000001\r\n\r\nSep001100000001\r\n' >"$WORK/dups.txt"
expect_rc 0 "op install --from with duplicates, from standard input" -- \
    bash -c "\"$LSCGATE\" --dir \"$CAPF_DIR\" op install --from - --auth string <\"$WORK/dups.txt\""
expect_contains "$OUT" "SEP001100000001 is listed on lines 1, 3 and 5 of standard input; acting on it once" \
    "the duplicate is reported with its lines"
expect_eq "$(grep -c "auth-string=" <<<"$OUT")" 2 "two devices scheduled, one string each"
expect_eq "$(pending_ops)" 2 "two pending operations"
expect_rc 0 "op cancel --from" -- adm op cancel --from "$WORK/dups.txt"
expect_eq "$(pending_ops)" 0 "cancelled"
expect_rc 1 "op cancel --from a device without a pending operation" -- adm op cancel --from "$WORK/dups.txt"
expect_contains "$OUT" "dups.txt:1: " "names the line"

# ---- --where / --all / --dry-run ----------------------------------------------
expect_rc 1 "op install with no device source" -- adm op install
expect_contains "$OUT" "--all for every device" "says how to name devices; nothing means nothing"
expect_rc 1 "names and --where together" -- adm op install SEP001100000001 --where model=CP-8841
expect_contains "$OUT" "one way only" "one source at a time"
expect_rc 0 "--dry-run --where model=CP-8841" -- adm op install --where model=CP-8841 --where 'name=SEP0011*' --dry-run --by +7d
expect_contains "$OUT" "would schedule install for SEP001100000001" "a BAT 'Cisco 8841' is a CP-8841"
expect_contains "$OUT" "would schedule install for SEP001100000003" "both 8841s"
expect_not_contains "$OUT" "SEP001100000002" "not the 8845"
expect_eq "$(pending_ops)" 0 "a dry run schedules nothing"
expect_rc 1 "a query matching nothing" -- adm op install --where model=CP-7975
expect_contains "$OUT" "no device matches model=CP-7975" "is an error"
expect_rc 1 "an unknown --where key" -- adm op fetch --where colour=red
expect_contains "$OUT" "unknown key 'colour'" "is named"
expect_rc 1 "seen=mic on a SQLite registry without --seen-file" -- adm op install --where seen=mic
expect_contains "$OUT" "--seen-file" "says where last-seen comes from"
expect_rc 0 "op install --where lsc=none --json" -- bash -c "\"$LSCGATE\" --dir \"$CAPF_DIR\" op install --where lsc=none --where 'name=SEP0011*' --json 2>/dev/null"
expect_eq "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$OUT")" 3 "three phones without an LSC"
expect_rc 0 "op cancel --where (only devices with an open operation)" -- adm op cancel --where model=CP-8841 --dry-run
expect_eq "$(grep -c "would cancel" <<<"$OUT")" 2 "the two pending 8841s, not the 600 others"
expect_rc 0 "op cancel --all" -- adm op cancel --all
expect_eq "$(pending_ops)" 0 "every pending operation cancelled"
expect_rc 1 "op cancel --all with nothing pending" -- adm op cancel --all
expect_contains "$OUT" "no device matches op=pending" "is an error too"
expect_rc 0 "op delete --all --dry-run" -- adm op delete --all --dry-run
expect_contains "$OUT" "dry run: 603 device(s)" "every device, nothing written"
expect_eq "$(pending_ops)" 0 "nothing scheduled"

# ---- lscgate check: exit codes 0 / 1 / 2 / 3 ----------------------------------
CHECK_DIR=$WORK/check
expect_rc 0 "init with a 40-day CAPF" -- "$LSCGATE" init --dir "$CHECK_DIR" --capf-days 40
expect_rc 0 "check --warn 30d: OK" -- "$LSCGATE" --dir "$CHECK_DIR" check --warn 30d --crit 7d
expect_contains "$OUT" "LSCGATE OK - CAPF current CN=" "one OK summary line"
expect_eq "$(wc -l <<<"$OUT")" 1 "exactly one line"
expect_rc 1 "check --warn 60d: WARNING" -- "$LSCGATE" --dir "$CHECK_DIR" check --warn 60d --crit 7d
expect_contains "$OUT" "LSCGATE WARNING - " "a WARNING summary"
expect_contains "$OUT" "| capf_days=" "with performance data"
expect_rc 2 "check --crit 45d: CRITICAL" -- "$LSCGATE" --dir "$CHECK_DIR" check --warn 60d --crit 45d
expect_contains "$OUT" "LSCGATE CRITICAL - " "a CRITICAL summary"
expect_rc 2 "check --json" -- bash -c "\"$LSCGATE\" --dir \"$CHECK_DIR\" check --warn 60d --crit 45d --json"
expect_eq "$(python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["status"], j["exit_code"], j["capf"][0]["role"], j["lsc"]["active"])' <<<"$OUT")" \
    "CRITICAL 2 CAPF current 0" "JSON details"
expect_rc 3 "check with a bad --warn: UNKNOWN" -- "$LSCGATE" --dir "$CHECK_DIR" check --warn soon
expect_contains "$OUT" "LSCGATE UNKNOWN - --warn" "UNKNOWN names the option"
expect_rc 3 "check on a missing registry: UNKNOWN" -- "$LSCGATE" --dir "$WORK/nowhere" check
expect_rc 3 "check with an unknown option: UNKNOWN, not WARNING" -- "$LSCGATE" --dir "$CHECK_DIR" check --wrn 30d
# An active LSC close to expiry makes it WARNING even with a healthy CAPF.
expect_rc 0 "check on the fleet registry: OK" -- adm check
sed -i 's/^lsc_days = [0-9]*/lsc_days = 20/' "$CAPF_DIR/lscgate.toml"
expect_eq "$(grep -c '^lsc_days = 20' "$CAPF_DIR/lscgate.toml")" 1 "LSCs of this registry are issued for 20 days"
start_capf "$CAPF_DIR"
expect_rc 0 "schedule an install" -- adm op install SEP001100000003
expect_rc 0 "a phone enrols (20-day LSC)" -- phone SEP001100000003
expect_rc 1 "check: the 20-day LSC is a WARNING at --warn 30d" -- adm check
expect_contains "$OUT" "1 of 1 active LSCs expire within 30 days" "the LSC is counted"
expect_contains "$OUT" "SEP001100000003" "and named"
stop_capf
# The server ran a session, so its loop (and the reminder) ran: a CAPF valid for years gets no warning.
expect_not_contains "$(cat "$CAPF_LOG")" "capf warning: CAPF certificate" "no expiry warning for a CAPF valid for years"

# ---- serve warns when its CAPF certificate is within 60 days of expiry --------
start_capf "$CHECK_DIR"
wait_log "$CAPF_LOG" "capf warning: CAPF certificate CN="
# 40 days from init, in whole days: 40 when serve starts within the second init ran, else 39.
if grep -qE "expires in (39|40) days" "$CAPF_LOG"; then pass "the warning says how long is left"
else failed "the warning says how long is left: no 'expires in 39|40 days'"; grep "capf warning" "$CAPF_LOG" | sed 's/^/    | /'; fi
stop_capf

finish
