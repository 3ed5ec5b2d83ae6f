#!/usr/bin/env bash
# A running `lscgate serve` follows the registry's trusted CAPF set (issue 7 item 7):
# after a CAPF rotation it accepts re-key proofs made with LSCs of the previous
# CAPF; once that CAPF is retired (`lscgate capf retire`), the same proof is
# refused within [capf] trust_refresh seconds - without restarting serve. A
# SIGHUP re-reads the set at once. `lscgate capf bundle` prints the same set.
source "$(dirname "$0")/lib.sh"

CAPF_DIR=$WORK/capf
DB=$CAPF_DIR/lscgate.db
A=SEP0000000007A1
B=SEP0000000007A2
C=SEP0000000007A3
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }

# wait_log PATTERN N: until the server log has N lines matching PATTERN (bounded: 15 s).
wait_log() {
    for _ in $(seq 1 150); do
        [ "$(grep -c -- "$1" "$CAPF_LOG" || true)" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

"$LSCGATE" init --dir "$CAPF_DIR" >/dev/null
sed -i 's/^trust_refresh = .*/trust_refresh = 1/' "$CAPF_DIR/lscgate.toml"
expect_contains "$(cat "$CAPF_DIR/lscgate.toml")" "trust_refresh = 1" "[capf] trust_refresh is in the configuration"
adm device add "$A" "$B" "$C" >/dev/null
adm op install "$A" "$B" "$C" --auth null --key ec:p256 >/dev/null 2>&1
start_capf "$CAPF_DIR"
expect_contains "$(cat "$CAPF_LOG")" "capf trust loaded: capf_trusted=1" "serve logs the trust set it starts with"
for d in "$A" "$B" "$C"; do expect_rc 0 "$d enrols under the first CAPF" -- phone "$d"; done
OLD_SHA=$(adm capf show --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sha256"])')
stop_capf

# ---- rotation: the first CAPF becomes "previous" -------------------------------------------
expect_rc 0 "rotate the CAPF (init --force)" -- "$LSCGATE" init --dir "$CAPF_DIR" --force
sed -i 's/^trust_refresh = .*/trust_refresh = 1/' "$CAPF_DIR/lscgate.toml"
expect_eq "$(sql "$DB" "SELECT group_concat(status) FROM capf_certificates ORDER BY id")" "previous,current" "old CAPF kept as previous"
expect_rc 0 "capf bundle" -- adm capf bundle
expect_eq "$(grep -c -- '-----BEGIN CERTIFICATE-----' <<<"$OUT")" 2 "the bundle holds the current and the previous CAPF"
start_capf "$CAPF_DIR"
expect_contains "$(cat "$CAPF_LOG")" "capf trust loaded: capf_trusted=2" "serve trusts current and previous"
adm op install "$A" "$B" "$C" --auth lsc --key ec:p256 >/dev/null 2>&1
expect_rc 0 "A re-keys with its LSC from the previous CAPF" -- phone "$A"

# ---- retire the previous CAPF while serve runs ---------------------------------------------
expect_rc 0 "capf retire the previous CAPF" -- adm capf retire "$OLD_SHA"
if wait_log "capf trust loaded: capf_trusted=1 .*(trust_refresh)" 1; then
    pass "serve re-read the trust set within trust_refresh"
else
    failed "no 'capf trust loaded ... (trust_refresh)' line within 15 s"
    tail -5 "$CAPF_LOG" | sed 's/^/    | /'
fi
expect_rc 2 "B's re-key proof with an LSC of the retired CAPF is refused (no restart)" -- phone "$B"
if wait_log "device=$B .*result=rejected.*not an LSC from a trusted CAPF" 1; then
    pass "the session is logged as rejected: not an LSC from a trusted CAPF"
else failed "no rejected session line for $B"; grep "device=$B" "$CAPF_LOG" | sed 's/^/    | /'; fi
expect_rc 0 "capf bundle after retire" -- adm capf bundle
expect_eq "$(grep -c -- '-----BEGIN CERTIFICATE-----' <<<"$OUT")" 1 "the bundle no longer holds the retired CAPF"
expect_not_contains "$OUT" "$(sql "$DB" "SELECT substr(pem, 30, 40) FROM capf_certificates WHERE status='retired'")" \
    "and not its PEM"

# ---- SIGHUP: re-read at once (the periodic refresh off) ---------------------------------------
stop_capf
sed -i 's/^trust_refresh = .*/trust_refresh = 0/' "$CAPF_DIR/lscgate.toml"
sqlite3 "$DB" "UPDATE capf_certificates SET status='previous' WHERE status='retired'"
start_capf "$CAPF_DIR"
expect_contains "$(cat "$CAPF_LOG")" "capf trust loaded: capf_trusted=2" "un-retired by hand: trusted again at start"
expect_rc 0 "capf retire again" -- adm capf retire "$OLD_SHA"
kill -HUP "$CAPF_PID"
if wait_log "capf trust loaded: capf_trusted=1 .*(SIGHUP)" 1; then pass "SIGHUP re-read the trust set"
else failed "no 'capf trust loaded ... (SIGHUP)' line within 15 s"; fi
expect_rc 2 "C's proof with an LSC of the retired CAPF is refused after SIGHUP" -- phone "$C"
expect_eq "$(kill -0 "$CAPF_PID" && echo running)" running "same serve process throughout"
stop_capf

finish
