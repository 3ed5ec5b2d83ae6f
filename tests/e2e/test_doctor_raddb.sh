#!/usr/bin/env bash
# lscgate doctor --raddb: a FreeRADIUS configuration directory with each EAP-TLS
# trap set one at a time (public CA bundle in ca_file, no current CAPF there, a
# retired CAPF, session cache on, reject_unknown_intermediate_ca on this FreeRADIUS
# 3.2.1, no check-eap-tls, an active rsa:1024 LSC at security level 2, a registry
# freerad cannot read), each named by doctor with the log's words.
source "$(dirname "$0")/lib.sh"

CAPF_DIR=$WORK/capf
D=$CAPF_DIR
R=$WORK/raddb
jv() { python3 -c 'import json,sys; d=json.load(sys.stdin); v=eval(sys.argv[1]); print(str(v).lower() if isinstance(v,bool) else v)' "$1"; }
finding() { jv "next((f['severity']+'|'+f['symptom'] for f in d['findings'] if f['check']=='$1'), 'none')" <<<"$OUT"; }
expect_finding() {
    local got
    got=$(finding "$1")
    if [ "${got%%|*}" = "$2" ] && grep -qF -- "$3" <<<"$got"; then pass "$4: $1 ($2) \"$3\""
    else failed "$4: expected $1 $2 with '$3', got '$got'"; echo "$OUT" | sed 's/^/    | /' | head -40; fi
}
doctor() { "$LSCGATE" --dir "$D" doctor --json --no-serve --raddb "$R"; }

chmod 755 "$WORK"  # freerad reaches the registry below it, as FreeRADIUS would
expect_rc 0 "init" -- "$LSCGATE" init --dir "$D"
# The packaged layout: freerad (in the directory's group) reads, never writes.
chgrp freerad "$D" "$D"/lscgate.db* && chmod 2750 "$D" && chmod 640 "$D"/lscgate.db*
mkdir -p "$R/mods-enabled" "$R/sites-enabled" "$R/certs"
printf 'prefix = /usr\ncertdir = ${confdir}/certs\nsecurity {\n\tuser = freerad\n\tgroup = freerad\n}\n' >"$R/radiusd.conf"
"$LSCGATE" --dir "$D" capf bundle --mic-roots - -o "$R/certs/ca.pem" >/dev/null
write_eap() {  # write_eap CA_FILE CACHE REJECT_UNKNOWN VIRTUAL_SERVER_LINE CIPHERS
    cat >"$R/mods-enabled/eap" <<EOT
eap {
	default_eap_type = tls
	tls-config tls-common {
		private_key_file = \${certdir}/server.key
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
cat >"$R/mods-enabled/lscgate" <<EOT
lscgate {
	database = "$D/lscgate.db"
}
EOT
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
