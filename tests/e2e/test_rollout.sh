#!/usr/bin/env bash
# Rollouts in waves and their status (issue 10 items 3 and 4), with the real
# binary, a real registry and `lscgate serve`: 300 devices from a BAT-style CSV,
# `rollout create --wave-size 100`, each wave enrolled by the phone simulator
# after `rollout next`, failures injected in wave 2 (wrong string, wrong key,
# dropped connection, refused store), a device with its own open operation
# skipped in wave 3; `rollout status --json` checked against `op list --all
# --json`, `cert list --json` and the registry; late phones of a rollout whose
# completes-by passed; generated strings per device; and the progress bars on a
# real terminal (tmux), redrawn in place by --watch. The tmux captures are
# printed to this test's log and kept in $LSCGATE_E2E_TMP/test_rollout.tmux.txt.
source "$(dirname "$0")/lib.sh"

CAPF_DIR=$WORK/capf
DB=$CAPF_DIR/lscgate.db
AUTH=24680135
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }
dev() { printf 'SEP%012X' $((0xAB000000 + $1)); }
sessions() { sql "$DB" "SELECT count(*) FROM capf_sessions"; }
# wait_sessions N: the server has recorded N sessions (a session's row is written
# as it ends, possibly after the phone process exited).
wait_sessions() { wait_until 60 "$1 CAPF sessions recorded" -- bash -c "[ \$(sqlite3 -readonly '$DB' 'SELECT count(*) FROM capf_sessions') -ge $1 ]"; }
jq_py() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

expect_rc 0 "init" -- "$LSCGATE" init --dir "$CAPF_DIR"
start_capf "$CAPF_DIR"

# ---- 300 devices from a BAT phone export (quoted fields, CRLF) ----------------
python3 - "$WORK/phones.csv" <<'PY'
import csv, sys
with open(sys.argv[1], "w", newline="") as f:
    w = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    w.writerow(["Device Name", "Description", "Device Pool", "Device Type"])
    for i in range(300):
        w.writerow(["SEP%012X" % (0xAB000000 + i), "Floor %d, desk %d" % (i // 100 + 1, i), "Default", "Cisco 8841"])
PY
expect_rc 0 "device add --from the BAT export" -- adm device add --from "$WORK/phones.csv"
expect_eq "$(sql "$DB" "SELECT count(*) FROM devices")" 300 "300 devices"

# ---- create: refusals and the dry run ------------------------------------------
expect_rc 1 "--by as a date is refused" -- adm rollout create rx --from "$WORK/phones.csv" --by 2030-01-01T00:00
expect_contains "$OUT" "a duration after each wave is scheduled" "says --by is a duration"
expect_rc 1 "a bad rollout name" -- adm rollout create "r 1" --from "$WORK/phones.csv"
expect_contains "$OUT" "invalid rollout name" "names the problem"
expect_rc 0 "create --dry-run" -- adm rollout create r1 --from "$WORK/phones.csv" --wave-size 100 --dry-run
expect_contains "$OUT" "would make wave 1/3 (scheduled at once): 100 devices, $(dev 0) … $(dev 99)" "wave 1 in input order"
expect_contains "$OUT" "would make wave 3/3: 100 devices, $(dev 200) … $(dev 299)" "wave 3"
expect_eq "$(sql "$DB" "SELECT count(*) FROM rollouts")" 0 "a dry run creates nothing"
expect_eq "$(sql "$DB" "SELECT count(*) FROM operations")" 0 "and schedules nothing"

# ---- create: wave 1 scheduled at once ------------------------------------------
expect_rc 0 "rollout create r1 (3 waves of 100)" -- \
    adm rollout create r1 --from "$WORK/phones.csv" --wave-size 100 --auth "string:$AUTH" --key ec:p256 --by +7d
expect_eq "$(grep -c "^scheduled install for .* (wave 1): auth=string key=ec:p256 completes-by=" <<<"$OUT")" 100 \
    "100 operations in wave 1"
expect_contains "$OUT" "rollout r1: wave 1 of 3 scheduled: 100 scheduled, 0 skipped; next: lscgate rollout next r1" "summary"
expect_eq "$(sql "$DB" "SELECT count(*) FROM operations WHERE state='pending'")" 100 "only wave 1 is pending"
expect_rc 1 "the same name again" -- adm rollout create r1 --from "$WORK/phones.csv"
expect_contains "$OUT" "rollout r1 already exists" "is refused"

expect_rc 0 "wave 1: 100 phones enrol" -- phone "$(dev 0)" --count 100 --concurrency 8 --auth-string "$AUTH"
expect_contains "$OUT" "succeeded=100 refused=0 failed=0" "every phone of wave 1"
wait_sessions 100

# ---- wave 2, with injected failures ------------------------------------------------
expect_rc 0 "rollout next r1 (wave 2)" -- adm rollout next r1
expect_contains "$OUT" "rollout r1: wave 2 of 3 scheduled: 100 scheduled" "wave 2 scheduled"
expect_rc 2 "3 phones type a wrong string" -- phone "$(dev 100)" --count 3 --auth-string 11112222
expect_rc 2 "2 phones return the wrong key" -- phone "$(dev 103)" --count 2 --auth-string "$AUTH" --fault wrong-key
expect_failure "2 phones drop the connection after generating their key" -- \
    phone "$(dev 105)" --count 2 --auth-string "$AUTH" --fault drop-after-keygen
expect_rc 2 "2 phones refuse to store their LSC" -- phone "$(dev 107)" --count 2 --auth-string "$AUTH" --fault refuse-store
expect_rc 0 "the other 91 phones of wave 2 enrol" -- phone "$(dev 109)" --count 91 --concurrency 8 --auth-string "$AUTH"
wait_sessions 200

# ---- wave 3: a device with its own open operation is skipped --------------------
expect_rc 0 "someone schedules $(dev 250) by hand" -- adm op install "$(dev 250)" --auth "string:$AUTH" --key ec:p256
OWN_OP=$(sql "$DB" "SELECT o.id FROM operations o JOIN devices d ON d.id=o.device_id WHERE d.name='$(dev 250)' AND o.state='pending'")
expect_rc 0 "rollout next r1 (wave 3)" -- adm rollout next r1
expect_contains "$OUT" "skipped $(dev 250) (wave 3): had an open install operation $OWN_OP" "the open operation is left alone"
expect_contains "$OUT" "wave 3 of 3 scheduled: 99 scheduled, 1 skipped; that was the last wave" "summary"
expect_rc 1 "rollout next after the last wave" -- adm rollout next r1
expect_contains "$OUT" "all 3 waves are scheduled" "says so"
expect_rc 0 "wave 3: 100 phones enrol" -- phone "$(dev 200)" --count 100 --concurrency 8 --auth-string "$AUTH"
wait_sessions 300

# ---- status --json against op list, cert list and the registry -------------------
expect_rc 0 "rollout status r1 --json" -- bash -c "\"$LSCGATE\" --dir \"$CAPF_DIR\" rollout status r1 --json 2>/dev/null"
echo "$OUT" >"$WORK/status.json"
adm op list --all --json >"$WORK/ops.json"
adm cert list --json >"$WORK/certs.json"
sql "$DB" "SELECT o.state, count(*) FROM rollout_devices rd JOIN rollouts r ON r.id=rd.rollout_id
           JOIN operations o ON o.id=rd.operation_id WHERE r.name='r1' GROUP BY o.state ORDER BY o.state" >"$WORK/registry.txt"
expect_eq "$(tr '\n' ' ' <"$WORK/registry.txt")" "pending|9 succeeded|290 " "the registry: 290 succeeded, 9 still pending"
CHECK=$(python3 - "$WORK" "$(dev 250)" <<'PY'
import csv, json, sys
work, own = sys.argv[1], sys.argv[2]
status = json.load(open(work + "/status.json"))
ops = json.load(open(work + "/ops.json"))
certs = json.load(open(work + "/certs.json"))
names = [row["Device Name"] for row in csv.DictReader(open(work + "/phones.csv", newline=""))]
newest = {}
for o in ops:
    if o["device"] not in newest or o["id"] > newest[o["device"]]["id"]:
        newest[o["device"]] = o
mine = [n for n in names if n != own]
c = status["counts"]
problems = []
def same(what, got, want):
    if got != want: problems.append("%s: status %r, expected %r" % (what, got, want))
same("total", c["total"], 300)
same("skipped", c["skipped"], 1)
same("waiting", c["waiting"], 0)
same("succeeded = op list succeeded", c["succeeded"], sum(newest[n]["state"] == "succeeded" for n in mine))
same("failed+pending+in-progress = op list open", c["failed"] + c["pending"] + c["in_progress"],
     sum(newest[n]["state"] in ("pending", "in-progress") for n in mine))
active = {x["device"] for x in certs if x["kind"] == "lsc" and x["status"] == "active"}
same("succeeded = active LSCs", c["succeeded"], len(active & set(mine)))
same("timed out", c["timed_out"], 0)
same("cancelled", c["cancelled"], 0)
same("wave counts", [(w["wave"], w["counts"]["succeeded"], w["counts"]["failed"], w["counts"]["skipped"]) for w in status["waves"]],
     [(1, 100, 0, 0), (2, 91, 9, 0), (3, 99, 0, 1)])
same("skipped device", [s["device"] for s in status["skipped"]], [own])
same("settled", status["settled"], True)
print("ok" if not problems else "; ".join(problems))
PY
)
expect_eq "$CHECK" ok "status counts match op list --all, cert list and the CSV"
dev_list() { local out="" i; for i in "$@"; do out+="$(dev "$i") "; done; echo "${out% }"; }
group() { jq_py "' '.join(next((g['devices'] for g in j['failures'] if g['class'] == '$1'), []))" <"$WORK/status.json"; }
expect_eq "$(group wrong-string)" "$(dev_list 100 101 102)" "wrong-string: the 3 phones with a wrong string"
expect_eq "$(group key-refused)" "$(dev_list 103 104)" "key-refused: the 2 phones that returned another key"
expect_eq "$(group dropped-during-keygen)" "$(dev_list 105 106)" "dropped-during-keygen: the 2 phones that dropped"
expect_eq "$(group phone-refused)" "$(dev_list 107 108)" "phone-refused: the 2 phones that refused to store"
expect_eq "$(jq_py "len(j['failures'])" <"$WORK/status.json")" 4 "no other group"
expect_eq "$(jq_py "j['failures'][0]['description']" <"$WORK/status.json")" "wrong or missing authentication string" \
    "the largest group first, described"
expect_eq "$(jq_py "sorted({w['completes_by'] for w in j['waves']}) == sorted(w['completes_by'] for w in j['waves'])" <"$WORK/status.json")" \
    True "each wave has its own completes-by"
expect_eq "$(jq_py "j['rate_per_min'] is not None and j['eta_seconds'] == 0" <"$WORK/status.json")" True "a rate, nothing left to wait for"
expect_rc 0 "rollout status r1 --wave 2 --json" -- bash -c "\"$LSCGATE\" --dir \"$CAPF_DIR\" rollout status r1 --wave 2 --json"
expect_eq "$(jq_py "(len(j['waves']), j['counts']['total'], j['counts']['failed'])" <<<"$OUT")" "(1, 100, 9)" "one wave"

# ---- plain lines when not a terminal ---------------------------------------------
expect_rc 0 "rollout status r1 (not a terminal)" -- adm rollout status r1
expect_contains "$OUT" "wave 2/3 scheduled " "a plain line per wave"
expect_contains "$OUT" "100 devices: 91 succeeded, 9 failed; " "with its counts"
expect_contains "$OUT" "  wrong-string (wrong or missing authentication string): 3 devices" "failure groups"
expect_contains "$OUT" "    $(dev 101)" "every failed device on its own line"
expect_eq "$(grep -c $'\x1b' <<<"$OUT")" 0 "no escape sequences"
expect_not_contains "$OUT" "[#" "no progress bar"
expect_rc 0 "--watch returns at once when nothing is open" -- adm rollout status r1 --watch
expect_rc 1 "--watch with --json" -- adm rollout status r1 --watch --json
expect_rc 0 "rollout list --json" -- bash -c "\"$LSCGATE\" --dir \"$CAPF_DIR\" rollout list --json"
expect_eq "$(jq_py "[(r['name'], r['waves'], r['next_wave'], r['devices']) for r in j]" <<<"$OUT")" "[('r1', 3, None, 300)]" "the rollout"

# ---- late phones: a rollout whose completes-by passed ------------------------------
adm device add "$(dev 300)" "$(dev 301)" >/dev/null
expect_rc 0 "rollout create r2 --by +1s" -- adm rollout create r2 "$(dev 300)" "$(dev 301)" --auth "string:$AUTH" --key ec:p256 --by +1s
r2_deadline=$(sql "$DB" "SELECT w.completes_by FROM rollout_waves w JOIN rollouts r ON r.id=w.rollout_id WHERE r.name='r2'")
# The event is the clock passing the stored deadline (whole seconds, UTC), as in test_capf_flows.sh.
wait_until 30 "r2's completes-by passes" -- bash -c "[ \$(date +%s) -gt $r2_deadline ]"
expect_rc 2 "2 late phones" -- phone "$(dev 300)" --count 2 --auth-string "$AUTH"
wait_sessions 302
expect_rc 0 "rollout status r2 --json" -- bash -c "\"$LSCGATE\" --dir \"$CAPF_DIR\" rollout status r2 --json"
expect_eq "$(jq_py "(j['counts']['timed_out'], [(g['class'], g['devices']) for g in j['failures']])" <<<"$OUT")" \
    "(2, [('late', ['$(dev 300)', '$(dev 301)'])])" "late: both phones, timed out"

# ---- generated strings, and --watch redrawing in place on a terminal ---------------
adm device add "$(dev 302)" "$(dev 303)" >/dev/null
expect_rc 0 "rollout create r3 --auth string (one per device)" -- adm rollout create r3 "$(dev 302)" "$(dev 303)" --auth string --key ec:p256 --by +7d
S302=$(sed -n "s/^scheduled install for $(dev 302) (wave 1): .* auth-string=\([0-9]*\)$/\1/p" <<<"$OUT")
S303=$(sed -n "s/^scheduled install for $(dev 303) (wave 1): .* auth-string=\([0-9]*\)$/\1/p" <<<"$OUT")
expect_eq "${#S302}:${#S303}" "8:8" "an 8-digit string for each device, shown once"
if [ "$S302" != "$S303" ]; then pass "the strings differ"; else failed "the strings differ"; fi

TMUX_LOG=$E2E_ROOT/test_rollout.tmux.txt
if command -v tmux >/dev/null 2>&1; then
    TSOCK=$WORK/tmux.sock
    tm() { tmux -S "$TSOCK" "$@"; }
    pane() { tm capture-pane -p -t rollout; }
    tm new-session -d -s rollout -x 120 -y 40 "bash --norc --noprofile"
    E2E_PIDS+=("$(tm display-message -p '#{pid}')")
    # The markers are computed by the shell, so the typed command line never matches them.
    tm send-keys -t rollout "clear; \"$LSCGATE\" --dir \"$CAPF_DIR\" rollout status r3 --watch --interval 0.2; echo \"rc=\$? end-\$((40+2))\"" Enter
    wait_until 30 "the watch draws r3's bar in tmux" -- bash -c "out=\$(tmux -S '$TSOCK' capture-pane -p -t rollout) && grep -qF 'wave 1/1 [' <<<\"\$out\""
    expect_rc 0 "r3's phones enrol with their own strings" -- phone "$(dev 302)" --auth-string "$S302"
    expect_rc 0 "with theirs" -- phone "$(dev 303)" --auth-string "$S303"
    wait_until 30 "the watch ends once nothing is open" -- bash -c "out=\$(tmux -S '$TSOCK' capture-pane -p -t rollout) && grep -qF 'end-42' <<<\"\$out\""
    WATCH=$(pane)
    FULL=$(printf '#%.0s' $(seq 1 40))  # a 120-column terminal gets a 40-cell bar
    expect_contains "$WATCH" "wave 1/1 [$FULL] 2/2 succeeded" "redrawn to the end state"
    expect_eq "$(grep -cF 'wave 1/1 [' <<<"$WATCH")" 1 "redrawn in place: one bar line, not one per redraw"
    # The header is longer than 120 columns: it wraps, and the redraw moves up by rows, not lines.
    expect_eq "$(grep -cF 'rollout r3: ' <<<"$WATCH")" 1 "the wrapped header is redrawn in place too"
    expect_contains "$WATCH" "rc=0 end-42" "and exited 0"
    tm send-keys -t rollout "clear; \"$LSCGATE\" --dir \"$CAPF_DIR\" rollout status r1; echo \"rc=\$? end-\$((40+3))\"" Enter
    wait_until 30 "r1's status drawn in tmux" -- bash -c "out=\$(tmux -S '$TSOCK' capture-pane -p -t rollout) && grep -qF 'end-43' <<<\"\$out\""
    R1=$(pane)
    { echo "---- rollout status r3 --watch (tmux 120x40, after the redraws) ----"; echo "$WATCH"
      echo "---- rollout status r1 (tmux 120x40) ----"; echo "$R1"; } | tee "$TMUX_LOG"
    expect_contains "$R1" "wave 1/3 [$FULL] 100/100 succeeded" "wave 1's bar is full"
    # 91 of 100 in 40 cells: 36 '#', 9 failed: 3 'x', the rest '.'.
    expect_contains "$R1" "wave 2/3 [${FULL:0:36}xxx.] 91/100 succeeded 9 failed" "wave 2's bar shows the failures"
    expect_contains "$R1" "done" "nothing left to wait for"
    expect_contains "$R1" "/min" "with the rate"
    expect_contains "$R1" "  wrong-string (wrong or missing authentication string): 3 devices" "the failure groups below the bars"
    expect_contains "$R1" "rc=0 end-43" "exit 0"
    tm kill-server
else
    echo "tmux not installed: the terminal check is skipped (scripts/setup installs it)" | tee "$TMUX_LOG"
fi

stop_capf
finish
