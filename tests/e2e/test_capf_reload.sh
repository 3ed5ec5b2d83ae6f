#!/usr/bin/env bash
# SIGHUP reloads `lscgate serve` (issue 13; systemctl reload lscgate): lscgate.toml,
# the CAPF certificate, key and chain, and the trust set, for the sessions that
# start afterwards. A configuration that does not load is logged and the running
# one kept; [server] listen and the database wait for a restart, said so. (--listen
# given to serve wins over the file at start and after a reload alike.)
source "$(dirname "$0")/lib.sh"

CAPF_DIR=$WORK/capf
TOML=$CAPF_DIR/lscgate.toml
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }
enrol() {
    adm device add "$1" >/dev/null && adm op install "$1" --auth null --key ec:p256 >/dev/null 2>&1 && phone "$1" "${@:2}"
}
days_left() {
    local not_after
    not_after=$(openssl x509 -noout -enddate -in "$WORK/phones/$1.lsc.pem" | cut -d= -f2)
    echo $(( ($(date -d "$not_after" +%s) - $(date +%s) + 43200) / 86400 ))  # rounded to whole days
}
hup_and_wait() {  # hup_and_wait PATTERN N: SIGHUP, then N log lines with PATTERN
    kill -HUP "$CAPF_PID"
    wait_log "$CAPF_LOG" "$1" "$2"
}

"$LSCGATE" init --dir "$CAPF_DIR" >/dev/null
sed -i 's/^trust_refresh = .*/trust_refresh = 0/' "$TOML"  # the trust set changes only at a SIGHUP here
start_capf "$CAPF_DIR"
expect_rc 0 "SEP0000001301A1 enrols (lsc_days = 365)" -- enrol SEP0000001301A1
expect_eq "$(days_left SEP0000001301A1)" 365 "LSC for 365 days"
expect_not_contains "$(cat "$CAPF_LOG")" "takes effect at the next start" "no restart-only change reported yet"

# ---- a good change applies to the next session ----------------------------------------------
sed -i 's/^lsc_days = .*/lsc_days = 30/' "$TOML"
hup_and_wait "capf configuration reloaded (SIGHUP)" 1
expect_contains "$(grep 'configuration reloaded' "$CAPF_LOG")" "lsc_days=30" "the reload line shows the new lsc_days"
expect_rc 0 "SEP0000001301A2 enrols after the reload" -- enrol SEP0000001301A2
expect_eq "$(days_left SEP0000001301A2)" 30 "its LSC follows lsc_days = 30"
expect_not_contains "$(cat "$CAPF_LOG")" "takes effect at the next start" "--listen on the command line is no change to report"

# ---- a broken file is refused, the running configuration stays ------------------------------
adm device add SEP0000001301A3 >/dev/null && adm op install SEP0000001301A3 --auth null --key ec:p256 >/dev/null 2>&1
sed -i 's/^lsc_days = .*/lsc_days = 30\nlsc_days_typo = 7/' "$TOML"
hup_and_wait "capf reload failed, keeping the running configuration" 1
expect_contains "$(grep 'reload failed' "$CAPF_LOG")" "lscgate.toml:11: unknown key 'lsc_days_typo'" "the failure names the file, line and key"
expect_rc 0 "SEP0000001301A3 still enrols (scheduled before the edit)" -- phone SEP0000001301A3
expect_eq "$(days_left SEP0000001301A3)" 30 "with the configuration that was running"
sed -i '/^lsc_days_typo/d' "$TOML"

# ---- settings bound at start: said, not applied ---------------------------------------------
sed -i 's/^database = .*/database = "elsewhere.db"/' "$TOML"
hup_and_wait "capf configuration reloaded (SIGHUP)" 2
expect_contains "$(cat "$CAPF_LOG")" "the database elsewhere.db ([store] database) takes effect at the next start (still using lscgate.db)" \
    "a new database waits for a restart, and the log says so"
sed -i "s/^database = .*/database = 'lscgate.db'/" "$TOML"
expect_rc 0 "sessions still go to the registry serve opened" -- enrol SEP0000001301A4

# ---- a rotated CAPF certificate is presented after the reload -------------------------------
expect_rc 0 "rotate the CAPF (init --force) while serve runs" -- "$LSCGATE" init --dir "$CAPF_DIR" --force
expect_failure "a phone that trusts only the new CAPF is refused before the reload (old certificate presented)" -- \
    enrol SEP0000001301A5
hup_and_wait "capf trust loaded: capf_trusted=2 (current and previous in the registry)" 1 &&
    pass "the reload rebuilt the trust set: current and previous CAPF"
adm op install SEP0000001301A5 --auth null --key ec:p256 >/dev/null 2>&1
expect_rc 0 "after the reload the new CAPF certificate is presented" -- phone SEP0000001301A5
expect_rc 0 "SEP0000001301A1 re-keys with its LSC of the previous CAPF" -- \
    bash -c "'$LSCGATE' --dir '$CAPF_DIR' op install SEP0000001301A1 --auth lsc --key ec:p256 >/dev/null 2>&1 &&
             '$LSCGATE' phone --server 127.0.0.1:$CAPF_PORT --capf-cert '$CAPF_DIR/capf.crt' --name SEP0000001301A1 --out '$WORK/phones'"

stop_capf
finish
