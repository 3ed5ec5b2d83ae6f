#!/usr/bin/env python3
"""A minimal, strict CAPF server, used to check that `lscgate phone` interoperates with
CAPF servers other than lscgate's own.

Written from the protocol facts only (module/capf/PROTOCOL.md §2-§6, §10) and behaving like
the public reference server where that server is strict: it tolerates at most ONE
REQUEST_IN_PROGRESS before KEY_GENERATE_RESPONSE and ends the session on a second one
("Unexpected command: 17"). It serves one operation to every device: install, with
the key type given on the command line, and signs each LSC with the `openssl` CLI.

Output (stdout, line-buffered): "listening on HOST:PORT" once the socket listens, then
one line per session: "enrolled NAME keepalives=K" or "refused NAME: WHY".
Standard library only (ssl, socket, socketserver); stops on SIGTERM.
"""

import argparse
import base64
import os
import signal
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import tempfile
import threading

PROTOCOL_ID = 0x55
CMD_AUTH_REQUEST, CMD_AUTH_RESPONSE = 1, 2
CMD_KEY_GENERATE_REQUEST, CMD_KEY_GENERATE_RESPONSE = 3, 4
CMD_STORE_CERTIFICATE_REQUEST, CMD_STORE_CERTIFICATE_RESPONSE = 9, 10
CMD_END_SESSION = 15
CMD_REQUEST_IN_PROGRESS = 17
TAG_REASON, TAG_CERTIFICATE_TYPE, TAG_CERTIFICATE = 1, 3, 4
TAG_VERSION, TAG_AUTH_TYPE, TAG_PUBLIC_KEY, TAG_KEY_SIZE = 7, 8, 9, 10
TAG_DEVICE_NAME, TAG_KEY_TYPE, TAG_CURVE = 13, 17, 18
REASON_UPDATE_CERTIFICATE, REASON_INVALID_ELEMENT = 1, 7

PRINT_LOCK = threading.Lock()


def say(text):
    """One whole line on stdout (sessions run in parallel threads)."""
    with PRINT_LOCK:
        print(text, flush=True)


class Refused(Exception):
    """The session ends with END_SESSION(7) for this reason."""


class Session:
    """One TLS connection: framing of §3/§3.3 and the install flow of §6.2."""

    def __init__(self, tls, session_id, args):
        self.tls, self.sid, self.args = tls, session_id, args

    def read_exact(self, count):
        data = b""
        while len(data) < count:
            chunk = self.tls.recv(count - len(data))
            if not chunk:
                raise Refused("peer closed the connection")
            data += chunk
        return data

    def receive(self):
        proto, command, sid, length = struct.unpack(">BBIH", self.read_exact(8))
        body = self.read_exact(length) if length else b""
        if proto != PROTOCOL_ID or sid != self.sid:
            raise Refused("bad protocol id or session id")
        elements, pos = {}, 0
        while pos < len(body):
            if pos + 3 > len(body):
                raise Refused("partial element header")
            tag, size = struct.unpack_from(">BH", body, pos)
            if pos + 3 + size > len(body):
                raise Refused("element runs past the body")
            elements[tag] = body[pos + 3:pos + 3 + size]
            pos += 3 + size
        return command, elements

    def send(self, command, elements):
        body = b"".join(struct.pack(">BH", tag, len(value)) + value for tag, value in elements)
        self.tls.sendall(struct.pack(">BBIH", PROTOCOL_ID, command, self.sid, len(body)) + body)

    def key_request(self):
        if self.args.key == "rsa":
            return [(TAG_KEY_SIZE, struct.pack(">H", 2048)), (TAG_KEY_TYPE, b"\x00")]
        return [(TAG_KEY_TYPE, b"\x01"), (TAG_CURVE, b"\x00")]  # EC P-256

    def run(self):
        self.send(CMD_AUTH_REQUEST, [(TAG_VERSION, b"\x03"), (TAG_AUTH_TYPE, b"\x00")])
        command, elements = self.receive()
        if command != CMD_AUTH_RESPONSE:
            raise Refused("Unexpected command: %d" % command)
        name = elements.get(TAG_DEVICE_NAME, b"").rstrip(b"\x00").decode("ascii", "replace")
        version = elements.get(TAG_VERSION, b"\x00")[0]
        if not name or version != 3:
            raise Refused("DEVICE_NAME missing or VERSION %d != 3" % version)
        self.name = name
        self.send(CMD_KEY_GENERATE_REQUEST, self.key_request())
        keepalives = 0
        while True:
            command, elements = self.receive()
            # The reference server tolerates exactly one keep-alive here.
            if command == CMD_REQUEST_IN_PROGRESS and keepalives == 0:
                keepalives += 1
                continue
            if command != CMD_KEY_GENERATE_RESPONSE:
                raise Refused("Unexpected command: %d" % command)
            break
        if TAG_PUBLIC_KEY not in elements:
            raise Refused("KEY_GENERATE_RESPONSE without PUBLIC_KEY")
        der = sign_lsc(self.args, name, elements[TAG_PUBLIC_KEY])
        wrapped = b"\x01" + struct.pack(">H", len(der) + 2) + b"\x00\x01" + der  # §5.1
        self.send(CMD_STORE_CERTIFICATE_REQUEST, [(TAG_CERTIFICATE_TYPE, b"\x01"), (TAG_CERTIFICATE, wrapped)])
        command, elements = self.receive()
        if command != CMD_STORE_CERTIFICATE_RESPONSE:
            raise Refused("Unexpected command: %d" % command)
        if elements.get(TAG_REASON) != bytes([REASON_UPDATE_CERTIFICATE]):
            raise Refused("phone did not store the LSC")
        self.send(CMD_END_SESSION, [(TAG_REASON, bytes([REASON_UPDATE_CERTIFICATE]))])
        say("enrolled %s keepalives=%d" % (name, keepalives))


def sign_lsc(args, name, spki_der):
    """LSC for `name` over the phone's SPKI, signed by the CAPF with `openssl x509 -new`."""
    with tempfile.TemporaryDirectory(prefix="strict-capf-") as tmp:
        pub = os.path.join(tmp, "phone.pub")
        with open(pub, "w") as handle:
            handle.write("-----BEGIN PUBLIC KEY-----\n")
            handle.write(base64.encodebytes(spki_der).decode("ascii"))
            handle.write("-----END PUBLIC KEY-----\n")
        proc = subprocess.run(
            ["openssl", "x509", "-new", "-force_pubkey", pub, "-subj", "/CN=" + name, "-CA", args.cert,
             "-CAkey", args.key_file, "-days", "365", "-sha256", "-outform", "DER"],
            capture_output=True, check=False)
        if proc.returncode != 0 or not proc.stdout:
            raise Refused("openssl could not sign: " + proc.stderr.decode(errors="replace").strip())
        return proc.stdout


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        server = self.server
        with server.sid_lock:
            server.next_sid += 1
            sid = server.next_sid
        try:
            tls = server.tls.wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError) as err:
            say("refused -: TLS handshake failed: %s" % err)
            return
        tls.settimeout(server.args.timeout)
        session = Session(tls, sid, server.args)
        session.name = "-"
        try:
            session.run()
        except Refused as why:
            say("refused %s: %s" % (session.name, why))
            try:
                session.send(CMD_END_SESSION, [(TAG_REASON, bytes([REASON_INVALID_ELEMENT]))])
            except OSError:
                pass
        except (OSError, ssl.SSLError, struct.error) as err:
            say("refused %s: I/O error %s" % (session.name, err))
        finally:
            try:
                tls.close()
            except OSError:
                pass


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0: any free port)")
    parser.add_argument("--cert", required=True, help="CAPF certificate (PEM): TLS server certificate and LSC issuer")
    parser.add_argument("--key", dest="key_file", required=True, help="CAPF private key (PEM)")
    parser.add_argument("--key-type", dest="key", choices=["ec", "rsa"], default="ec",
                        help="key the phones are asked to generate: EC P-256 or RSA 2048")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per read")
    args = parser.parse_args()
    host, _, port = args.listen.rpartition(":")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.minimum_version = ssl.TLSVersion.TLSv1_2
    tls.load_cert_chain(args.cert, args.key_file)
    server = Server((host, int(port)), Handler)
    server.tls, server.args, server.sid_lock, server.next_sid = tls, args, threading.Lock(), 0
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    bound = server.server_address
    say("listening on %s:%d" % (bound[0], bound[1]))
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    sys.exit(main())
