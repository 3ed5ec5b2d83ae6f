#!/usr/bin/env python3
"""A service manager's NOTIFY_SOCKET for tests: an AF_UNIX datagram socket that
writes every sd_notify(3) message it receives as one line (newlines inside a
message shown as " | ") to OUT, flushed at once.

Usage: notify_listener.py SOCKET OUT   (runs until killed; "bound" is the first line)
"""
import os
import socket
import sys


def main() -> int:
    path, out = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o666)  # the service runs as its own user
    with open(out, "a", buffering=1) as log:
        log.write("bound\n")
        while True:
            data = sock.recv(4096)
            log.write(data.decode("utf-8", "replace").strip().replace("\n", " | ") + "\n")


if __name__ == "__main__":
    sys.exit(main())
