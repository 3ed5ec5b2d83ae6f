#!/usr/bin/env bash
# Bad input at the command line gets a clear error, a non-zero exit, and changes nothing.
source "$(dirname "$0")/lib.sh"

D=$WORK/capf
adm() { "$LSCGATE" --dir "$D" "$@"; }

expect_rc 1 "commands before init fail" -- adm device list
expect_contains "$OUT" "lscgate init" "and say to run init"
expect_rc 0 "init" -- "$LSCGATE" init --dir "$D"
expect_eq "$(stat -c %a "$D/capf.key")" 600 "CAPF key is 0600"
expect_rc 1 "init refuses to overwrite" -- "$LSCGATE" init --dir "$D"
expect_contains "$OUT" "--force" "and names --force"
fp=$(sha256sum "$D/capf.crt")
expect_eq "$(sha256sum "$D/capf.crt")" "$fp" "CAPF certificate unchanged"
expect_rc 1 "init rejects a weak CAPF key" -- "$LSCGATE" init --dir "$WORK/weak" --capf-key rsa:1024
expect_rc 1 "init rejects an unknown key type" -- "$LSCGATE" init --dir "$WORK/weak" --capf-key dsa:2048
expect_rc 1 "init rejects a bad subject" -- "$LSCGATE" init --dir "$WORK/weak" --subject "NOPE=x"

expect_rc 1 "bad device name" -- adm device add "SEP00112233,CN=x"
expect_contains "$OUT" "invalid device name" "message names the problem"
expect_rc 1 "a bad name in a list adds nothing" -- adm device add SEP000000000001 "bad name"
expect_eq "$(sql "$D/lscgate.db" "SELECT count(*) FROM devices")" 0 "no device was added"
expect_rc 0 "device add several" -- adm device add SEP000000000001 SEP000000000002 --model CP-8845
expect_rc 1 "duplicate device" -- adm device add SEP000000000001
expect_contains "$OUT" "already exists" "message says so"
expect_rc 1 "bad key spec" -- adm op install SEP000000000001 --key rsa:512
expect_contains "$OUT" "rsa:2048" "message lists valid keys"
expect_rc 1 "bad auth mode" -- adm op install SEP000000000001 --auth password
expect_rc 1 "auth string with letters" -- adm op install SEP000000000001 --auth string:12ab
expect_rc 1 "too short auth string" -- adm op install SEP000000000001 --auth string:123
expect_rc 1 "bad --by" -- adm op install SEP000000000001 --by tomorrow
expect_rc 1 "--by in the past" -- adm op install SEP000000000001 --by 2020-01-01T00:00Z
expect_contains "$OUT" "in the past" "message says so"
expect_rc 1 "op for an unknown device schedules nothing" -- adm op install SEP000000000001 SEP000000000099
expect_eq "$(sql "$D/lscgate.db" "SELECT count(*) FROM operations")" 0 "no operation was scheduled"
expect_rc 0 "generated auth string" -- adm op install SEP000000000001 --auth string --json
digits=$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["auth_string"])' <<<"$OUT")
expect_eq "${#digits}" 8 "an 8-digit string is generated and shown once"
expect_eq "$(sql "$D/lscgate.db" "SELECT count(*) FROM operations WHERE auth_secret LIKE '%$digits%'")" 0 "and stored only hashed"
expect_rc 1 "cancel with nothing pending" -- adm op cancel SEP000000000002
expect_rc 0 "cancel" -- adm op cancel SEP000000000001
expect_rc 1 "unknown subcommand" -- adm frobnicate
expect_rc 1 "missing argument" -- adm device show
expect_rc 1 "show unknown device" -- adm device show SEP0000000000EE
expect_rc 0 "cert list --json on an empty registry" -- adm cert list --json
expect_eq "$OUT" "[]" "prints an empty JSON array"
for cmd in "device list" "op list" "cert list" "capf show" "audit"; do
    expect_rc 0 "$cmd --json is valid JSON" -- bash -c "\"$LSCGATE\" --dir \"$D\" $cmd --json | python3 -m json.tool"
done

# Revocation needs something to revoke and a known reason.
expect_rc 1 "revoke without NAME or --serial" -- adm revoke
expect_rc 1 "revoke a device without an LSC" -- adm revoke SEP000000000001
expect_contains "$OUT" "no active LSC" "message says so"
expect_rc 1 "revoke with an unknown reason" -- adm revoke SEP000000000001 --reason because
expect_rc 1 "revoke an unknown serial" -- adm revoke --serial 00DEADBEEF

# Broken configuration and files: clear errors, nothing half-done.
cp "$D/lscgate.toml" "$WORK/toml.bak"
printf '[server]\nlisten = \n' >"$D/lscgate.toml"
expect_rc 1 "broken config" -- adm device list
expect_contains "$OUT" "lscgate.toml:2" "error names the file and line"
cp "$WORK/toml.bak" "$D/lscgate.toml"
mv "$D/capf.key" "$WORK/capf.key.bak"
expect_rc 1 "serve without the CAPF key" -- adm serve --listen 127.0.0.1:$(free_port)
expect_contains "$OUT" "capf.key" "error names the missing key file"
mv "$WORK/capf.key.bak" "$D/capf.key"
# Values that would silently mean something else are refused with key, file and line.
printf '[auth]\nlockout_seconds = 4294967296\n' >"$D/lscgate.toml"
expect_rc 1 "lockout_seconds = 2^32 is refused, not wrapped to 0" -- adm device list
expect_contains "$OUT" "lscgate.toml:2: [auth] lockout_seconds = 4294967296 is out of range" "error names key, file and line"
printf '[server]\nmax_sessions = 4294967297\n' >"$D/lscgate.toml"
expect_rc 1 "max_sessions = 2^32+1 is refused, not wrapped to 1" -- adm device list
expect_contains "$OUT" "max_sessions" "error names the key"
printf '[auth]\nlockout_secnds = 60\n' >"$D/lscgate.toml"
expect_rc 1 "a misspelled key is refused" -- adm device list
expect_contains "$OUT" "lscgate.toml:2: unknown key 'lockout_secnds' in [auth]" "error names key, file and line"
cp "$WORK/toml.bak" "$D/lscgate.toml"
# A private key readable by group or others is refused with the fix, as ssh does;
# `timeout` bounds the old behaviour (serve starting without a word).
for mode in 644 666; do
    chmod "$mode" "$D/capf.key"
    expect_rc 1 "serve refuses capf.key with mode $mode" -- timeout 20 "$LSCGATE" --dir "$D" serve --listen 127.0.0.1:$(free_port)
    expect_contains "$OUT" "chmod 600 $D/capf.key" "and names the fix"
done
chmod 600 "$D/capf.key"
expect_rc 1 "serve on a bad address" -- adm serve --listen 127.0.0.1:99999
cp "$D/lscgate.db" "$WORK/db.bak"
head -c 4096 /dev/urandom >"$D/lscgate.db"
rm -f "$D/lscgate.db-wal" "$D/lscgate.db-shm"
expect_rc 1 "corrupt database" -- adm device list
expect_contains "$OUT" "lscgate.db" "error names the database"
cp "$WORK/db.bak" "$D/lscgate.db"

# capf import: a CAPF under a corporate CA, with its chain.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/root.key" -out "$WORK/root.pem" -days 365 \
    -subj "/O=Example/CN=Example Root" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout "$WORK/capf2.key" -out "$WORK/capf2.csr" -subj "/O=Example/OU=Voice/CN=CAPF-corp" 2>/dev/null
openssl x509 -req -in "$WORK/capf2.csr" -CA "$WORK/root.pem" -CAkey "$WORK/root.key" -CAcreateserial -days 365 -out "$WORK/capf2.pem" \
    -extfile <(printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,digitalSignature,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n') 2>/dev/null
expect_rc 1 "import refuses a key that does not match" -- adm capf import --cert "$WORK/capf2.pem" --key "$WORK/root.key"
expect_rc 1 "import refuses a chain that did not sign it" -- adm capf import --cert "$WORK/capf2.pem" --key "$WORK/capf2.key" --chain "$WORK/capf2.pem"
chmod 644 "$WORK/capf2.key"
expect_rc 1 "import refuses a key file readable by others" -- adm capf import --cert "$WORK/capf2.pem" --key "$WORK/capf2.key" --chain "$WORK/root.pem"
expect_contains "$OUT" "chmod 600 $WORK/capf2.key" "and names the fix"
chmod 666 "$WORK/root.key"
expect_rc 1 "the phone simulator refuses a key file writable by others" -- adm phone --server 127.0.0.1:1 \
    --capf-cert "$D/capf.crt" --name SEP000000000001 --out "$WORK/p" --cert "$WORK/root.pem" --key "$WORK/root.key"
expect_contains "$OUT" "chmod 600 $WORK/root.key" "and names the fix"
chmod 600 "$WORK/capf2.key" "$WORK/root.key"
expect_rc 0 "import an intermediate CAPF" -- adm capf import --cert "$WORK/capf2.pem" --key "$WORK/capf2.key" --chain "$WORK/root.pem"
expect_rc 0 "capf show" -- adm capf show
expect_contains "$OUT" "CN=CAPF-corp,OU=Voice,O=Example" "shows the new subject"
expect_contains "$OUT" "CN=Example Root,O=Example" "and its issuer"
expect_contains "$OUT" "previous" "the old CAPF is kept as previous"
expect_eq "$(stat -c %a "$D/capf.key")" 600 "imported key is 0600"
old_fp=$(sql "$D/lscgate.db" "SELECT fingerprint FROM capf_certificates WHERE status='previous'")
new_fp=$(sql "$D/lscgate.db" "SELECT fingerprint FROM capf_certificates WHERE status='current'")
expect_rc 1 "the current CAPF cannot be retired" -- adm capf retire "$new_fp"
expect_rc 1 "retire needs a long enough fingerprint" -- adm capf retire AB
expect_rc 0 "retire the previous CAPF by fingerprint prefix" -- adm capf retire "${old_fp:0:12}"
expect_eq "$(sql "$D/lscgate.db" "SELECT status FROM capf_certificates WHERE fingerprint='$old_fp'")" retired "it is retired"
expect_not_contains "$(adm capf show)" "previous" "capf show lists no previous CAPF any more"
adm capf show --json >"$WORK/show.json"
expect_eq "$(python3 -c 'import json; j=json.load(open("'"$WORK/show.json"'")); print(j["days_left"] >= 364, len(j["sha256"]))')" "True 64" "JSON has days left and fingerprint"

# Weak keys: refused where they cannot work, with the consequence and the fix.
expect_rc 1 "op install --key rsa:1024 is refused" -- adm op install SEP000000000001 --key rsa:1024
expect_contains "$OUT" "EE certificate key too weak" "names what FreeRADIUS will say"
expect_contains "$OUT" "--key rsa:2048 or ec:p256" "names the fix"
expect_contains "$OUT" "SECLEVEL=1" "and the alternative (a lower security level)"
expect_contains "$OUT" "--allow-weak-key" "and the flag"
expect_eq "$(sql "$D/lscgate.db" "SELECT count(*) FROM operations WHERE state='pending'")" 0 "nothing was scheduled"
expect_rc 0 "op install --key rsa:1024 --allow-weak-key" -- adm op install SEP000000000001 --key rsa:1024 --allow-weak-key
expect_contains "$OUT" "warning:" "still warns"
expect_rc 0 "cancel it" -- adm op cancel SEP000000000001
expect_rc 1 "init refuses rsa:1024 and says what breaks" -- "$LSCGATE" init --dir "$WORK/weak" --capf-key rsa:1024
expect_contains "$OUT" "CA certificate key too weak" "names the FreeRADIUS consequence"
expect_contains "$OUT" "--allow-weak-capf" "and the flag"
W=$WORK/weakcapf
wadm() { "$LSCGATE" --dir "$W" "$@"; }
expect_rc 0 "init for the weak-CAPF checks" -- "$LSCGATE" init --dir "$W"
strong_fp=$(sha256sum <"$W/capf.crt")
ca_ext=(-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,digitalSignature,keyCertSign,cRLSign")
openssl req -x509 -newkey rsa:1024 -sha1 -nodes -keyout "$WORK/old.key" -out "$WORK/old.pem" -days 365 \
    -subj "/O=Example/CN=CAPF-old-cluster" "${ca_ext[@]}" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -sha1 -nodes -keyout "$WORK/sha1.key" -out "$WORK/sha1.pem" -days 365 \
    -subj "/O=Example/CN=CAPF-sha1" "${ca_ext[@]}" 2>/dev/null
expect_rc 1 "capf import refuses an RSA-1024/SHA-1 CAPF" -- wadm capf import --cert "$WORK/old.pem" --key "$WORK/old.key"
expect_contains "$OUT" "RSA-1024 key" "names the weak key"
expect_contains "$OUT" "sha1" "and the weak signature"
expect_contains "$OUT" "CA certificate key too weak" "says what will break"
expect_contains "$OUT" "--allow-weak-capf" "names the flag"
expect_eq "$(sha256sum <"$W/capf.crt")" "$strong_fp" "the CAPF certificate is unchanged"
expect_rc 1 "capf import refuses a SHA-1-signed CAPF" -- wadm capf import --cert "$WORK/sha1.pem" --key "$WORK/sha1.key"
expect_contains "$OUT" "signed with sha1" "names the signature"
expect_rc 0 "capf import --allow-weak-capf" -- wadm capf import --cert "$WORK/old.pem" --key "$WORK/old.key" --allow-weak-capf
expect_contains "$OUT" "warning:" "warns"
expect_rc 1 "serve with an RSA-1024 CAPF" -- timeout 20 "$LSCGATE" --dir "$W" serve --listen "127.0.0.1:$(free_port)"
expect_contains "$OUT" "CAPF certificate $W/capf.crt" "the error names the file"
expect_contains "$OUT" "key is too small for OpenSSL security level 2" "the cause"
expect_contains "$OUT" "lscgate init --force" "and the fix"
expect_contains "$OUT" "README" "and where the rotation is described"

# ---- CAPF rotation with init --force: the organisation is kept, never the whole name ----
ROT=$WORK/rotate
"$LSCGATE" init --dir "$ROT" --subject "CN=CAPF-hq2,OU=Voice,O=Example,C=NZ" >/dev/null
expect_rc 0 "init --force rotates" -- "$LSCGATE" init --dir "$ROT" --force
expect_contains "$OUT" "OU=Voice,O=Example,C=NZ" "the new CAPF keeps OU/O/C"
expect_not_contains "$OUT" "subject           CN=CAPF-hq2," "but not the old CN"
expect_contains "$OUT" "stays trusted as 'previous'" "and says what happened to the old one"
expect_contains "$OUT" "lscgate capf bundle" "and what to do next"
current=$("$LSCGATE" --dir "$ROT" capf show | sed -n 's/^  subject     //p')
expect_rc 1 "a rotation to the same name is refused" -- "$LSCGATE" init --dir "$ROT" --force --subject "$current"
expect_contains "$OUT" "is the current CAPF's name" "naming why"

finish
