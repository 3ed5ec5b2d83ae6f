#!/usr/bin/env python3
"""A switch's CoA listener for tests (RFC 5176): a UDP socket on 127.0.0.1 that
answers every CoA-Request (43) with CoA-ACK (44) and every Disconnect-Request
(40) with Disconnect-ACK (41), the Response Authenticator made with SECRET
(RFC 5176 §3.5: MD5(Code+Identifier+Length+Request Authenticator+Attributes+Secret)),
and writes one line per request to OUT: "<code> <identifier> <length>".

Usage: coa_ack_listener.py PORT SECRET OUT   (runs until killed; "bound" is the first line)
"""
import hashlib
import socket
import struct
import sys

ACK = {43: 44, 40: 41}


def main() -> int:
    port, secret, out = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    with open(out, "a", buffering=1) as log:
        log.write("bound\n")
        while True:
            data, peer = sock.recvfrom(4096)
            if len(data) < 20:
                continue
            code, ident, length = struct.unpack("!BBH", data[:4])
            log.write("%d %d %d\n" % (code, ident, length))
            if code not in ACK:
                continue
            head = struct.pack("!BBH", ACK[code], ident, 20)
            auth = hashlib.md5(head + data[4:20] + secret).digest()
            sock.sendto(head + auth, peer)


if __name__ == "__main__":
    sys.exit(main())
