#!/usr/bin/env bash
# The TLS listener: version policy (TLS 1.0 only when configured), a CAPF under a
# corporate CA (chain sent, LSCs verify to the root), garbage and truncated TLS
# on the socket, and the session limit. The server must keep serving throughout.
source "$(dirname "$0")/lib.sh"

CAPF_DIR=$WORK/capf
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }
"$LSCGATE" init --dir "$CAPF_DIR" >/dev/null
adm device add SEP0000000000C1 SEP0000000000C2 SEP0000000000C3 >/dev/null

# ---- TLS versions ------------------------------------------------------------------
start_capf "$CAPF_DIR"
adm op install SEP0000000000C1 --key ec:p256 >/dev/null 2>&1
expect_rc 1 "a TLS 1.0 phone is refused by default" -- phone SEP0000000000C1 --tls-version 1.0
expect_contains "$OUT" "TLS" "the phone reports a TLS failure"
expect_rc 0 "a TLS 1.3 phone enrolls" -- phone SEP0000000000C1 --tls-version 1.3
stop_capf
start_capf "$CAPF_DIR" --tls-min 1.0
adm op install SEP0000000000C2 --key rsa:2048 >/dev/null 2>&1
expect_rc 0 "with --tls-min 1.0 a legacy TLS 1.0 phone enrolls" -- phone SEP0000000000C2 --tls-version 1.0
expect_contains "$(openssl s_client -connect 127.0.0.1:$CAPF_PORT -tls1_2 </dev/null 2>&1)" "Protocol  : TLSv1.2" "TLS 1.2 still works there"

# ---- garbage, truncated TLS, plain CAPF without TLS -----------------------------------
# The s_client probe above is one closed session: count from there.
wait_log "$CAPF_LOG" "result=closed" 1
closed_before=$(log_count "$CAPF_LOG" "result=closed")
python3 - "$CAPF_PORT" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def poke(data, close_after=0.2):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if data: s.sendall(data)
    time.sleep(close_after)
    s.close()
poke(b"")                                             # connect and leave
poke(b"\x55\x02\x00\x00\x00\x01\x00\x04\x01\x00\x01\x01")  # CAPF without TLS
poke(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")   # ClientHello cut short
poke(bytes(range(256)) * 4)                           # noise
PY
wait_log "$CAPF_LOG" "result=closed" $((closed_before + 4))
expect_rc 0 "the server survives garbage and still serves" -- bash -c "kill -0 $CAPF_PID"
expect_eq "$(( $(log_count "$CAPF_LOG" "result=closed") - closed_before ))" 4 "each bad connection is logged and closed"
adm op install SEP0000000000C3 >/dev/null 2>&1
expect_rc 0 "a phone enrolls after the garbage" -- phone SEP0000000000C3
stop_capf

# ---- keep-alives do not stretch an unauthenticated session ---------------------------
sed -i 's/^reply_timeout = 30/reply_timeout = 2/' "$CAPF_DIR/lscgate.toml"
start_capf "$CAPF_DIR"
expect_rc 0 "REQUEST_IN_PROGRESS before authentication does not hold the session open" -- python3 - "$CAPF_PORT" "$CAPF_DIR/capf.crt" <<'PY'
import socket, ssl, struct, sys, time
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
hdr = s.recv(8)
sid = struct.unpack(">I", hdr[2:6])[0]
s.recv(struct.unpack(">H", hdr[6:8])[0])
start = time.time()
ended = None
while time.time() - start < 8:
    try:
        s.sendall(struct.pack(">BBIH", 0x55, 17, sid, 0))
    except OSError:
        ended = time.time() - start
        break
    s.settimeout(0.4)
    try:
        data = s.recv(64)
        if not data or data[1] == 15:
            ended = time.time() - start
            break
    except socket.timeout:
        pass
print(f"session ended after {ended}")
sys.exit(0 if ended is not None and ended < 4 else 1)
PY
expect_contains "$OUT" "session ended after" "the server ended it"
stop_capf
sed -i 's/^reply_timeout = 2/reply_timeout = 30/' "$CAPF_DIR/lscgate.toml"

# ---- session limit -------------------------------------------------------------------
sed -i "s/^max_sessions = 10000 /max_sessions = 1 /" "$CAPF_DIR/lscgate.toml"
start_capf "$CAPF_DIR"
# The holder takes the only slot and keeps it until told to go (bounded: 60 s).
python3 - "$CAPF_PORT" "$WORK/holder.connected" "$WORK/holder.release" <<'PY' &
import os, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
open(sys.argv[2], "w").close()
end = time.monotonic() + 60
while not os.path.exists(sys.argv[3]) and time.monotonic() < end:
    time.sleep(0.05)
s.close()
PY
HOLDER=$!
E2E_PIDS+=("$HOLDER")
adm op install SEP0000000000C1 >/dev/null 2>&1
# The listener accepts in connection order, so once the holder is connected the
# server sees it first; the log line of the server's accept is not needed.
wait_until 30 "the holder is connected" -- test -e "$WORK/holder.connected"
expect_rc 1 "over the session limit the connection is closed" -- phone SEP0000000000C1 --timeout 5
expect_contains "$(cat "$CAPF_LOG")" "too many concurrent sessions" "and the refusal is logged"
closed_before=$(log_count "$CAPF_LOG" "result=closed")
touch "$WORK/holder.release"
wait "$HOLDER" || true
# The holder's session is logged as closed when the server notices it went.
wait_log "$CAPF_LOG" "result=closed" $((closed_before + 1))
wait_until 30 "once the slot is free the phone enrolls" -- phone SEP0000000000C1 && pass "once the slot is free the phone enrolls"
stop_capf
sed -i "s/^max_sessions = 1 /max_sessions = 10000 /" "$CAPF_DIR/lscgate.toml"

# ---- a CAPF signed by a corporate CA --------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/root.key" -out "$WORK/root.pem" -days 365 \
    -subj "/O=Example/CN=Example Root" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout "$WORK/capf2.key" -out "$WORK/capf2.csr" -subj "/O=Example/OU=Voice/CN=CAPF-corp" 2>/dev/null
openssl x509 -req -in "$WORK/capf2.csr" -CA "$WORK/root.pem" -CAkey "$WORK/root.key" -CAcreateserial -days 365 -out "$WORK/capf2.pem" \
    -extfile <(printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,digitalSignature,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n') 2>/dev/null
adm capf import --cert "$WORK/capf2.pem" --key "$WORK/capf2.key" --chain "$WORK/root.pem" >/dev/null
start_capf "$CAPF_DIR"
expect_contains "$(openssl s_client -connect 127.0.0.1:$CAPF_PORT -showcerts </dev/null 2>/dev/null | grep -c 'BEGIN CERTIFICATE')" "2" "the TLS handshake carries the CAPF and its issuer"
adm op install SEP0000000000C2 --auth lsc --key ec:p256 >/dev/null 2>&1
expect_rc 0 "a phone re-keys with an LSC from the previous CAPF" -- phone SEP0000000000C2
expect_rc 0 "the new LSC verifies to the corporate root" -- openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/capf2.pem" "$WORK/phones/SEP0000000000C2.lsc.pem"
expect_contains "$(openssl x509 -noout -issuer -in "$WORK/phones/SEP0000000000C2.lsc.pem")" "CN = CAPF-corp" "its issuer is the CAPF's subject"
stop_capf

finish
