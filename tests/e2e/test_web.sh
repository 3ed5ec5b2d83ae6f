#!/usr/bin/env bash
# lscgate web (issue 14) in a real browser: headless Chromium driven by Selenium
# (tests/e2e/web_browser.py) against `lscgate web` on loopback HTTPS, with
# `lscgate serve` and the simulated phone for the enrolment. Sign-in, schedule
# an install and see it pending then installed, revoke and see it, helpdesk
# refused server-side (403), a POST without CSRF token refused, the lockout
# after five wrong passwords, the headers, and screenshots of the dashboard and
# a device page (PNG, kept in $LSCGATE_E2E_TMP/web-screenshots, paths printed).
source "$(dirname "$0")/lib.sh"

CAPF_DIR=$WORK/capf
"$LSCGATE" init --dir "$CAPF_DIR" >/dev/null
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }
adm device add SEP0000000000A1 SEP0000000000A2 --model CP-8841 >/dev/null
adm device add SEP0000000000A3 --model CP-7945 --description '<script>alert(1)</script>' >/dev/null

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
    ALICE_PW="$ALICE_PW" HUGO_PW="$HUGO_PW" CAROL_PW="$CAROL_PW" LSCGATE="$LSCGATE" \
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
expect_eq "$(sql "$DB" "SELECT count(*) FROM audit WHERE actor='web:alice' AND action='operation.schedule'")" 2 "schedules audited with the account name"
expect_eq "$(sql "$DB" "SELECT count(*) FROM audit WHERE actor='web:alice' AND action='certificate.revoke'")" 1 "the revocation audited with the account name"
expect_eq "$(sql "$DB" "SELECT count(*) FROM audit WHERE actor='web:carol' AND action='web.lockout'")" 1 "the lockout audited"
expect_eq "$(sql "$DB" "SELECT count(*) FROM audit WHERE actor='web:hugo' AND action='operation.schedule'")" 0 "helpdesk scheduled nothing"
expect_eq "$(sql "$DB" "SELECT count(*) FROM audit WHERE actor='web:hugo' AND action='web.doctor' AND device='SEP0000000000A2'")" 1 "the helpdesk's doctor run audited"
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
