#!/usr/bin/env bash
# lscgate doctor --raddb: a FreeRADIUS configuration directory with each EAP-TLS
# trap set one at a time (public CA bundle in ca_file, no current CAPF there, a
# retired CAPF, session cache on, reject_unknown_intermediate_ca on this FreeRADIUS
# 3.2.1, no check-eap-tls, an active rsa:1024 LSC at security level 2, a registry
# freerad cannot read), each named by doctor with the log's words. Then what TLS
# refuses before any policy: an expired (and an expiring) active LSC, a grace the
# policy grants, MIC roots that expired or are weaker than the security level, a
# MIC allowance whose roots ca_file lacks, accept_expired_mic with a MIC allowance,
# and eap trusting the MIC roots as its ca_path or ca_file.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/mic_pki.sh"

CAPF_DIR=$WORK/capf
D=$CAPF_DIR
R=$WORK/raddb
jv() { python3 -c 'import json,sys; d=json.load(sys.stdin); v=eval(sys.argv[1]); print(str(v).lower() if isinstance(v,bool) else v)' "$1"; }
finding() { jv "next((f['severity']+'|'+f['symptom'] for f in d['findings'] if f['check']=='$1'), 'none')" <<<"$OUT"; }
expect_finding() {
    local got
    got=$(finding "$1")
    if [ "${got%%|*}" = "$2" ] && grep -qF -- "$3" <<<"$got"; then pass "$4: $1 ($2) \"$3\""
    else failed "$4: expected $1 $2 with '$3', got '$got'"; echo "$OUT" | sed -n '1,40s/^/    | /p'; fi
}
doctor() { "$LSCGATE" --dir "$D" doctor --json --no-serve --raddb "$R"; }

chmod 755 "$WORK"  # freerad reaches the registry below it, as FreeRADIUS would
expect_rc 0 "init" -- "$LSCGATE" init --dir "$D"
# The packaged layout: freerad (in the directory's group) reads, never writes.
chgrp freerad "$D" "$D"/lscgate.db* && chmod 2750 "$D" && chmod 640 "$D"/lscgate.db*
mkdir -p "$R/mods-enabled" "$R/sites-enabled" "$R/certs"
printf 'prefix = /usr\ncertdir = ${confdir}/certs\nsecurity {\n\tuser = freerad\n\tgroup = freerad\n}\n' >"$R/radiusd.conf"
"$LSCGATE" --dir "$D" capf bundle --mic-roots - -o "$R/certs/ca.pem" >/dev/null
write_eap() {  # write_eap CA_FILE CACHE REJECT_UNKNOWN VIRTUAL_SERVER_LINE CIPHERS [EXTRA-TLS-LINE]
    cat >"$R/mods-enabled/eap" <<EOT
eap {
	default_eap_type = tls
	tls-config tls-common {
		private_key_file = \${certdir}/server.key
		${6:-}
		ca_file = $1
		cipher_list = "$5"
		reject_unknown_intermediate_ca = $3   # trap on FreeRADIUS < 3.2.7
		cache {
			enable = $2
		}
	}
	tls {
		tls = tls-common
		$4
	}
}
EOT
}
write_eap '${certdir}/ca.pem' no no 'virtual_server = check-eap-tls' 'DEFAULT'
write_module() {  # write_module [LINE...]: the lscgate module, with extra settings
    { echo "lscgate {"; echo "	database = \"$D/lscgate.db\""; for l in "$@"; do echo "	$l"; done; echo "}"; } >"$R/mods-enabled/lscgate"
}
write_module
cat >"$R/sites-enabled/lscgate-check-eap-tls" <<'EOT'
server check-eap-tls {
authorize {
	lscgate
	if (reject) { reject }
}
}
EOT

expect_rc 0 "a raddb wired as README says" -- doctor
expect_finding raddb.ca-file ok "" "ca_file holds exactly the trusted certificates"
expect_finding raddb.check-eap-tls ok "" "check-eap-tls calls lscgate"
expect_finding raddb.database ok "" "freerad can read the registry"
expect_contains "$(jv "next(f['cause'] for f in d['findings'] if f['check']=='raddb.database')" <<<"$OUT")" \
    "write neither it nor its directory" "doctor says freerad cannot write it"

write_eap /etc/ssl/certs/ca-certificates.crt no no 'virtual_server = check-eap-tls' 'DEFAULT'
expect_rc 2 "public CA bundle as ca_file" -- doctor
expect_finding raddb.ca-file-foreign fail "reject [unknown-issuer]" "row: ca_file is the public bundle"
expect_finding raddb.ca-file-no-capf fail "unknown CA" "row: ca_file lacks the CAPF"

# A retired CAPF still in ca_file: rotate, retire the old one, keep the old bundle plus the new CAPF.
OLD_SHA=$("$LSCGATE" --dir "$D" capf show --json | jv 'd["sha256"]')
"$LSCGATE" init --dir "$D" --force >/dev/null
"$LSCGATE" --dir "$D" capf retire "$OLD_SHA" >/dev/null
cat "$D/capf.crt" >>"$R/certs/ca.pem"
write_eap '${certdir}/ca.pem' no no 'virtual_server = check-eap-tls' 'DEFAULT'
expect_rc 1 "a retired CAPF left in ca_file" -- doctor
expect_finding raddb.ca-file-retired warn "no longer trusted" "row: retired CAPF in ca_file"
"$LSCGATE" --dir "$D" capf bundle --mic-roots - -o "$R/certs/ca.pem" >/dev/null

write_eap '${certdir}/ca.pem' yes no 'virtual_server = check-eap-tls' 'DEFAULT'
expect_rc 2 "session cache on" -- doctor
expect_finding raddb.session-cache fail "revoked LSC keeps working" "row: TLS session cache on"

write_eap '${certdir}/ca.pem' no yes 'virtual_server = check-eap-tls' 'DEFAULT'
expect_rc 2 "reject_unknown_intermediate_ca on FreeRADIUS $(freeradius -v 2>/dev/null | grep -o 'Version [0-9.]*' | head -1)" -- doctor
expect_finding raddb.reject-unknown-intermediate fail "every phone refused" "row: reject_unknown_intermediate_ca < 3.2.7"

write_eap '${certdir}/ca.pem' no no '' 'DEFAULT'
expect_rc 2 "no check-eap-tls virtual server" -- doctor
expect_finding raddb.check-eap-tls fail "EAP-Success" "row: check-eap-tls not wired"

# ---- what TLS refuses before any policy ---------------------------------------------
write_eap '${certdir}/ca.pem' no no 'virtual_server = check-eap-tls' 'DEFAULT'
"$LSCGATE" --dir "$D" device add SEP0011223344A2 >/dev/null
"$LSCGATE" --dir "$D" op install SEP0011223344A2 --auth null --key ec:p256 >/dev/null 2>&1
start_capf "$D"
expect_rc 0 "a phone enrols with ec:p256" -- phone SEP0011223344A2
stop_capf
A2_NOT_AFTER=$(sqlite3 "$D/lscgate.db" "SELECT not_after FROM certificates WHERE device_name='SEP0011223344A2' AND status='active'")
lsc_not_after() { sqlite3 "$D/lscgate.db" "UPDATE certificates SET not_after=$1 WHERE device_name='SEP0011223344A2' AND status='active'"; }
expect_rc 0 "the active ec:p256 LSC: nothing for TLS to refuse" -- doctor
expect_finding raddb.lsc-expiry ok "" "no active LSC expired or expiring"
# Its notAfter passed (as the registry would hold it a year on): TLS says "certificate has expired" first.
lsc_not_after "strftime('%s','now') - 3600"
expect_rc 2 "an active LSC past notAfter" -- doctor
expect_finding raddb.lsc-expired fail "certificate has expired" "row: expired active LSC refused by TLS"
lsc_not_after "strftime('%s','now') + 10 * 86400"
expect_rc 1 "an active LSC expiring in 10 days" -- doctor
expect_finding raddb.lsc-expiring warn "certificate has expired" "row: active LSC expiring within 30 days"
lsc_not_after "$A2_NOT_AFTER"

printf '[expiry]\ngrace_days = 7\n' >"$WORK/grace.toml"
write_module "policy = \"$WORK/grace.toml\""
expect_rc 1 "policy grace_days = 7" -- doctor
expect_finding raddb.policy-grace warn "although the policy grants a grace" "row: expiry grace TLS makes impossible"
printf '[actions]\nlsc-expired = "accept"\n' >"$WORK/accept-expired.toml"
write_module "policy = \"$WORK/accept-expired.toml\""
expect_rc 1 "policy lsc-expired = accept" -- doctor
expect_finding raddb.policy-lsc-expired warn "certificate has expired" "row: lsc-expired action TLS makes impossible"
printf '[actions]\nmic = "restrict"\n' >"$WORK/mic-no-roots.toml"
write_module "policy = \"$WORK/mic-no-roots.toml\""
expect_rc 1 "mic = restrict without mic_roots" -- doctor
expect_finding raddb.policy-mic-no-roots warn "never the MIC action" "row: MIC allowance without MIC roots"

# MIC roots: a stand-in manufacturing CA (RSA-2048, SHA-256), one that expired, one RSA-1024/SHA-1.
make_mic_pki "$WORK/mic"
mkdir -p "$WORK/mic-old" "$WORK/mic-weak"
python3 - "$WORK/mic-old/mfg-ca.pem" <<'EOP'
import datetime, sys
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Cisco"),
                  x509.NameAttribute(NameOID.COMMON_NAME, "Test Manufacturing CA (expired)")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=3650)).not_valid_after(now - datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
open(sys.argv[1], "wb").write(cert.public_bytes(serialization.Encoding.PEM))
EOP
openssl req -x509 -newkey rsa:1024 -sha1 -nodes -keyout "$WORK/mic-weak/mfg-ca.key" -out "$WORK/mic-weak/mfg-ca.pem" -days 3650 \
    -subj "/O=Cisco/CN=Test Manufacturing CA SHA1" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
printf '[actions]\nmic = "restrict"\n' >"$WORK/mic.toml"
bundle_with() {  # bundle_with ROOTS: ca.pem = the CAPF certificates + ROOTS
    "$LSCGATE" --dir "$D" capf bundle --mic-roots - -o "$R/certs/ca.pem" >/dev/null
    [ -z "$1" ] || cat "$1" >>"$R/certs/ca.pem"
}
bundle_with "$WORK/mic/mfg-ca.pem"
write_module "mic_roots = \"$WORK/mic/mfg-ca.pem\"" "policy = \"$WORK/mic.toml\""
expect_rc 0 "mic = restrict with sound MIC roots in mic_roots and ca_file" -- doctor
bundle_with ""
expect_rc 2 "mic = restrict, MIC roots missing from ca_file" -- doctor
expect_finding raddb.policy-mic-untrusted fail "unable to get local issuer certificate" "row: MIC allowance whose roots TLS does not trust"
bundle_with "$WORK/mic-old/mfg-ca.pem"
write_module "mic_roots = \"$WORK/mic-old/mfg-ca.pem\"" "policy = \"$WORK/mic.toml\""
expect_rc 2 "mic = restrict under an expired MIC root" -- doctor
expect_finding raddb.mic-root-expired fail "certificate has expired" "row: expired MIC root, MIC allowance impossible"
bundle_with "$WORK/mic-weak/mfg-ca.pem"
write_module "mic_roots = \"$WORK/mic-weak/mfg-ca.pem\""
expect_rc 1 "an RSA-1024/SHA-1 MIC root (MICs rejected anyway)" -- doctor
expect_finding raddb.mic-root-weak warn "CA certificate key too weak" "row: MIC root below SECLEVEL 2 (key)"
expect_contains "$(jv "[f['symptom'] for f in d['findings'] if f['check']=='raddb.mic-root-weak']" <<<"$OUT")" \
    "CA signature digest algorithm too weak" "row: MIC root below SECLEVEL 2 (SHA-1 signature)"
bundle_with "$WORK/mic/mfg-ca.pem"
write_module "mic_roots = \"$WORK/mic/mfg-ca.pem\"" "policy = \"$WORK/mic.toml\""
sed -i 's/^accept_expired_mic = false/accept_expired_mic = true/' "$D/lscgate.toml"
expect_rc 1 "accept_expired_mic = true with mic = restrict" -- doctor
expect_finding raddb.accept-expired-mic warn "expired MIC" "row: accept_expired_mic that 802.1X cannot honour"
sed -i 's/^accept_expired_mic = true/accept_expired_mic = false/' "$D/lscgate.toml"
write_eap '${certdir}/ca.pem' no no 'virtual_server = check-eap-tls' 'DEFAULT' "ca_path = $WORK/mic"
expect_rc 2 "eap's ca_path is the MIC roots directory" -- doctor
expect_finding raddb.ca-path-mic-roots fail "any Cisco phone" "row: ca_path at the MIC roots"
mkdir -p "$WORK/empty-capath"
write_eap '${certdir}/ca.pem' no no 'virtual_server = check-eap-tls' 'DEFAULT' "ca_path = $WORK/empty-capath"
OUT=$(doctor) || true
expect_eq "$(finding raddb.ca-path)" none "an empty ca_path directory (trusts nothing) is not flagged"
write_eap "$WORK/mic/mfg-ca.pem" no no 'virtual_server = check-eap-tls' 'DEFAULT'
expect_rc 2 "eap's ca_file is the MIC roots bundle" -- doctor
expect_finding raddb.ca-file-mic-roots fail "unable to get local issuer certificate" "row: ca_file at the MIC roots"
write_module "mic_roots = \"$WORK/mic/no-such-roots.pem\""
expect_rc 2 "the module's mic_roots does not load" -- doctor
expect_finding raddb.mic-roots fail "FreeRADIUS does not start" "row: mic_roots unreadable"
write_module
bundle_with ""
write_eap '${certdir}/ca.pem' no no 'virtual_server = check-eap-tls' 'DEFAULT'

# An active rsa:1024 LSC at security level 2.
write_eap '${certdir}/ca.pem' no no 'virtual_server = check-eap-tls' 'DEFAULT@SECLEVEL=2'
"$LSCGATE" --dir "$D" device add SEP0011223344A1 >/dev/null
"$LSCGATE" --dir "$D" op install SEP0011223344A1 --auth null --key rsa:1024 --allow-weak-key >/dev/null 2>&1
start_capf "$D"
expect_rc 0 "a phone enrols with rsa:1024" -- phone SEP0011223344A1
stop_capf
expect_rc 2 "rsa:1024 LSC at SECLEVEL=2" -- doctor
expect_finding raddb.seclevel fail "EE certificate key too weak" "row: weak LSC at the TLS security level"

chmod 2770 "$D"
expect_rc 2 "registry directory writable by freerad" -- doctor
expect_finding raddb.database fail "can change the registry" "row: freerad may replace the registry (group-writable directory)"
chmod 2750 "$D" && chmod 660 "$D/lscgate.db-shm"
expect_rc 2 "registry -shm writable by freerad" -- doctor
expect_finding raddb.database fail "can change the registry" "row: freerad may write lscgate.db-shm"
chmod 640 "$D/lscgate.db-shm"
# A registry copied without its -wal/-shm (doctor's own registry would be healed by
# doctor opening it): the module would fail to open it, freerad may not create them.
O=$WORK/other
mkdir "$O" && chgrp freerad "$O" && chmod 2750 "$O"
sqlite3 "$D/lscgate.db" ".backup $O/lscgate.db"
rm -f "$O/lscgate.db-wal" "$O/lscgate.db-shm"
chgrp freerad "$O/lscgate.db" && chmod 640 "$O/lscgate.db"
sed -i "s|database = \"$D/lscgate.db\"|database = \"$O/lscgate.db\"|" "$R/mods-enabled/lscgate"
expect_rc 2 "registry -wal/-shm missing" -- doctor
expect_finding raddb.database fail "unable to open database file" "row: -wal/-shm missing, freerad may not create them"
sed -i "s|database = \"$O/lscgate.db\"|database = \"$D/lscgate.db\"|" "$R/mods-enabled/lscgate"
sed -i 's/^\tuser = freerad$/\tuser = root/' "$R/radiusd.conf"
expect_rc 2 "FreeRADIUS running as root" -- doctor
expect_finding raddb.database fail "can change the registry" "row: radiusd.conf keeps FreeRADIUS root"
sed -i 's/^\tuser = root$/\tuser = freerad/' "$R/radiusd.conf"

chmod 600 "$D/lscgate.db"
expect_rc 2 "registry unreadable by freerad" -- doctor
expect_finding raddb.database fail "cannot read the schema version" "row: database not readable by freerad"

finish
