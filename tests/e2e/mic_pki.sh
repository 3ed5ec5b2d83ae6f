# make_mic_pki DIR NAME...: a stand-in "Cisco Manufacturing CA" and one MIC per
# device (CN=CP-8841-<NAME>), like the factory certificates phones carry.
make_mic_pki() {
    local dir=$1
    shift
    mkdir -p "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/mfg-ca.key" -out "$dir/mfg-ca.pem" -days 3650 \
        -subj "/O=Cisco/CN=Test Manufacturing CA SHA2" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    local name
    for name in "$@"; do
        openssl req -new -newkey rsa:2048 -nodes -keyout "$dir/$name.mic.key" -out "$dir/$name.csr" \
            -subj "/O=Cisco Systems Inc./CN=CP-8841-$name" 2>/dev/null
        openssl x509 -req -in "$dir/$name.csr" -CA "$dir/mfg-ca.pem" -CAkey "$dir/mfg-ca.key" -CAcreateserial \
            -days 3650 -out "$dir/$name.mic.pem" \
            -extfile <(printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n') 2>/dev/null
        chmod 600 "$dir/$name.mic.key"
    done
}
