#!/usr/bin/env bash
# lscgate web (issue 14) in a real browser: headless Chromium driven by Selenium
# (tests/e2e/web_browser.py) against `lscgate web` on loopback HTTPS, with
# `lscgate serve` and the simulated phone for the enrolment. Sign-in, schedule
# an install and see it pending then installed (with its CAPF session), a wrong
# string's cause class on the device page, a bulk upload with an error line
# refused naming the line, a bulk upload applied in waves and its progress on
# the dashboard, the report's CSV download equal to `lscgate report lsc --csv`,
# revoke and see it (the CRL renewed, [coa] on_revoke's CoA acknowledged by a
# listener playing the switch), helpdesk refused server-side (403), a POST
# without CSRF token refused, the lockout after five wrong passwords, the
# headers, and screenshots of the dashboard and a device page (PNG, kept in
# $LSCGATE_E2E_TMP/web-screenshots, paths printed).
source "$(dirname "$0")/lib.sh"

CAPF_DIR=$WORK/capf
"$LSCGATE" init --dir "$CAPF_DIR" >/dev/null
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }
adm device add SEP0000000000A1 SEP0000000000A2 --model CP-8841 >/dev/null
adm device add SEP0000000000A3 --model CP-7945 --description '<script>alert(1)</script>' >/dev/null
adm device add SEP0000000000B1 SEP0000000000B2 SEP0000000000B3 --model CP-8845 >/dev/null

# What a RADIUS node last saw (the module's SQLite last_seen_database, in the
# columns registry/last_seen_sqlite.cpp reads): A1 through a switch on 127.0.0.1
# with its MIC, A2 with an LSC. The pages read it through [coa] last_seen
# ([web] last_seen left empty), and revoking A1 sends the switch a CoA.
/usr/bin/python3 - "$CAPF_DIR/seen.db" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE last_seen(device TEXT PRIMARY KEY, class TEXT NOT NULL, nas TEXT NOT NULL, reason TEXT NOT NULL,"
           " at INTEGER NOT NULL, count INTEGER NOT NULL, calling_station_id TEXT NOT NULL DEFAULT '',"
           " nas_port_id TEXT NOT NULL DEFAULT '', acct_session_id TEXT NOT NULL DEFAULT '',"
           " audit_session_id TEXT NOT NULL DEFAULT '', node TEXT NOT NULL DEFAULT '')")
now = int(time.time())
db.execute("INSERT INTO last_seen VALUES('SEP0000000000A1','mic','127.0.0.1','MIC accepted',?,4,"
           "'00-00-00-00-00-A1','GigabitEthernet1/0/7','','0A0B0C0D000000A1','radius-e2e')", (now - 600,))
db.execute("INSERT INTO last_seen VALUES('SEP0000000000A2','lsc-valid','127.0.0.1','LSC valid',?,1,"
           "'00-00-00-00-00-A2','GigabitEthernet1/0/8','','0A0B0C0D000000A2','radius-e2e')", (now - 300,))
db.commit()
PY
COA_PORT=$(free_port)
COA_SECRET=coa-web-$RANDOM$RANDOM
COA_LOG=$WORK/coa.log
printf '# NAS-ADDRESS SECRET [PORT]\n127.0.0.1 %s %s\n' "$COA_SECRET" "$COA_PORT" >"$CAPF_DIR/coa-secrets"
chmod 600 "$CAPF_DIR/coa-secrets"
sed -i -e '/^\[coa\]/,/^\[/ s/^on_revoke = false/on_revoke = true/' -e '/^\[coa\]/,/^\[/ s/^timeout = 3/timeout = 2/' \
    -e '/^\[coa\]/,/^\[/ s/^retries = 2/retries = 1/' -e '/^\[coa\]/,/^\[/ s/^last_seen = ""/last_seen = "seen.db"/' \
    "$CAPF_DIR/lscgate.toml"
expect_contains "$(cat "$CAPF_DIR/lscgate.toml")" 'last_seen = "seen.db"' "[coa] last_seen names the node's file"
/usr/bin/python3 "$(dirname "$0")/coa_ack_listener.py" "$COA_PORT" "$COA_SECRET" "$COA_LOG" &
E2E_PIDS+=("$!")
wait_log "$COA_LOG" "bound"

ALICE_PW='alice-web-password-1'
HUGO_PW='hugo-helpdesk-pass-2'
CAROL_PW='carol-admin-password-3'
echo "$ALICE_PW" | adm admin add alice --role admin >/dev/null
echo "$HUGO_PW" | adm admin add hugo --role helpdesk >/dev/null
echo "$CAROL_PW" | adm admin add carol --role admin >/dev/null
expect_failure "a password shorter than 12 characters is refused" -- bash -c "echo short | '$LSCGATE' --dir '$CAPF_DIR' admin add dave --role admin"
expect_eq "$(sql "$CAPF_DIR/lscgate.db" "SELECT count(*) FROM web_accounts WHERE password_hash LIKE '\$argon2id\$v=19\$%'")" 3 "passwords stored as Argon2id hashes"
expect_eq "$(sql "$CAPF_DIR/lscgate.db" "SELECT count(*) FROM audit WHERE action='web-account.add'")" 3 "account changes audited"

expect_rc 1 "a non-loopback listen address is refused without allow_remote" -- adm web --listen "0.0.0.0:$(free_port)"
expect_contains "$OUT" "allow_remote" "the refusal names [web] allow_remote"

start_capf "$CAPF_DIR"
WEB_PORT=$(free_port)
WEB_LOG=$WORK/web.log
# Started directly (not through the adm function): $! must be lscgate's own PID.
"$LSCGATE" --dir "$CAPF_DIR" web --listen "127.0.0.1:$WEB_PORT" >"$WEB_LOG" 2>&1 &
WEB_PID=$!
E2E_PIDS+=("$WEB_PID")
wait_log "$WEB_LOG" "web listening on https://127.0.0.1:$WEB_PORT"
expect_eq "$(stat -c %a "$CAPF_DIR/web.key")" 600 "the generated web key is 0600"
expect_contains "$(openssl x509 -in "$CAPF_DIR/web.crt" -noout -text)" "DNS:localhost" "the certificate is a server certificate for localhost"

SHOTS=$E2E_ROOT/web-screenshots
mkdir -p "$SHOTS"
rm -f "$SHOTS"/*.png
if WEB_URL="https://127.0.0.1:$WEB_PORT" CAPF_DIR="$CAPF_DIR" CAPF_PORT="$CAPF_PORT" WORK="$WORK" SHOTS="$SHOTS" \
    ALICE_PW="$ALICE_PW" HUGO_PW="$HUGO_PW" CAROL_PW="$CAROL_PW" LSCGATE="$LSCGATE" COA_PORT="$COA_PORT" \
    /usr/bin/python3 "$(dirname "$0")/web_browser.py"; then
    pass "browser checks (web_browser.py)"
else
    failed "browser checks (web_browser.py)"
fi
for shot in dashboard device; do
    if [ -s "$SHOTS/$shot.png" ] && [ "$(head -c 8 "$SHOTS/$shot.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
        pass "screenshot $SHOTS/$shot.png"
    else
        failed "screenshot $SHOTS/$shot.png missing or not a PNG"
    fi
done

DB=$CAPF_DIR/lscgate.db
expect_eq "$(sql "$DB" "SELECT count(*) FROM audit WHERE actor='web:alice' AND action='operation.schedule' AND device LIKE 'SEP0000000000A%'")" 2 "schedules audited with the account name"
expect_eq "$(sql "$DB" "SELECT count(*) FROM operations WHERE device_id IN (SELECT id FROM devices WHERE name LIKE 'SEP0000000000B%')")" 3 \
    "the bulk upload in waves scheduled B1-B3 (wave 1 from the bulk page, wave 2 from the dashboard), nothing from the refused one"
expect_eq "$(sql "$DB" "SELECT created_by FROM rollouts WHERE name='web-wave'")" "web:alice" "the rollout is created by the account"
expect_eq "$(grep -c '^4[03] ' "$COA_LOG")" 1 "the switch got one CoA for the revoked phone ([coa] on_revoke)"
expect_eq "$(sql "$DB" "SELECT count(*) FROM audit WHERE actor='web:alice' AND action='certificate.revoke'")" 1 "the revocation audited with the account name"
expect_eq "$(sql "$DB" "SELECT count(*) FROM audit WHERE actor='web:carol' AND action='web.lockout'")" 1 "the lockout audited"
expect_eq "$(sql "$DB" "SELECT count(*) FROM audit WHERE actor='web:hugo' AND action='operation.schedule'")" 0 "helpdesk scheduled nothing"
expect_eq "$(sql "$DB" "SELECT count(*) FROM audit WHERE actor='web:hugo' AND action='web.doctor' AND device='SEP0000000000A2'")" 1 "the helpdesk's doctor run audited"
expect_eq "$(sql "$DB" "SELECT count(*) FROM audit WHERE action='web.doctor' AND device='' AND detail='device name refused'")" 1 \
    "a doctor run for a junk device name is audited as refused"
expect_eq "$(sql "$DB" "SELECT count(*) FROM audit WHERE device LIKE '%<b>%' OR detail LIKE '%<b>%'")" 0 \
    "the junk text is nowhere in the audit"
expect_not_contains "$(cat "$WEB_LOG")" "$ALICE_PW" "no password in the web log"
expect_not_contains "$(cat "$WEB_LOG")" "$CAROL_PW" "no password in the web log (locked account)"
expect_not_contains "$(sql "$DB" "SELECT group_concat(detail, ' ') FROM audit")" "not the password" "no typed password in the audit trail"

kill -TERM "$WEB_PID"
deadline=$((SECONDS + 30))
while kill -0 "$WEB_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
if kill -0 "$WEB_PID" 2>/dev/null; then failed "lscgate web did not stop within 30 s of SIGTERM"; else pass "lscgate web stops on SIGTERM"; fi
expect_contains "$(cat "$WEB_LOG")" "web stopped" "lscgate web stopped cleanly"
stop_capf
echo "screenshots: $SHOTS/dashboard.png $SHOTS/device.png"
finish
