#!/usr/bin/env python3
"""Independent CAPF client used to check lscgate's CAPF server for interoperability.

It is written only from module/capf/PROTOCOL.md (the protocol notes) and deliberately
shares no code with the C++ phone simulator, so that a misreading of the spec in the
C++ codec is not silently mirrored on both ends of the wire.  Cryptography is done by
the `openssl` command-line tool (OpenSSL 3) so that the client needs nothing beyond the
Python standard library.

The client plays one phone for one session:
  AUTH_REQUEST -> AUTH_RESPONSE -> {install | fetch | delete | nothing} -> END_SESSION
and prints exactly one final line on stdout:
  END_SESSION reason=<n> action=<installed|fetched|deleted|none>
Exit status: 0 when the reason is 0 or 1, 2 for any other reason (7, 9, ...),
1 for any protocol or I/O error (explained on stderr).

The parts live in the capf_client package next to this file: protocol (the spec's
numbers), wire (elements and frames), pki (DER, the certificate wrapper, openssl)
and session (the phone's side of one session).
"""

import argparse
import sys
import tempfile

# Run from the source tree: no __pycache__ written next to the package.
sys.dont_write_bytecode = True

from capf_client import protocol  # noqa: E402 (after the bytecode switch)
from capf_client.protocol import REASON_NO_ACTION, REASON_UPDATE_CERTIFICATE, ProtocolError  # noqa: E402
from capf_client.session import parse_server, run_session  # noqa: E402


def parse_args(argv):
    """Command line; --password and --no-password are mutually exclusive, and a
    certificate proof needs both --cert and --key."""
    parser = argparse.ArgumentParser(description="Independent CAPF test client (one session).")
    parser.add_argument("--server", required=True, help="CAPF server HOST:PORT")
    parser.add_argument("--capf-cert", required=True, help="CAPF certificate (PEM) used as the TLS trust anchor")
    parser.add_argument("--name", required=True, help="device name, e.g. SEP001122334455")
    parser.add_argument("--out", default=".", help="directory for <NAME>.pem and <NAME>.key")
    parser.add_argument("--version", type=int, default=3, choices=[1, 2, 3, 4],
                        help="VERSION to send (1-3 are valid; 4 exists only to test rejection)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--password", default="", help="authentication string (default: empty PASSWORD)")
    group.add_argument("--no-password", action="store_true", help="omit the PASSWORD element (like Jabber)")
    parser.add_argument("--shuffle", action="store_true", help="send AUTH_RESPONSE elements in random order")
    parser.add_argument("--split", action="store_true",
                        help="send header and body of every message in separate TLS writes")
    parser.add_argument("--cert", help="existing LSC/MIC (PEM) to prove possession with and to fetch")
    parser.add_argument("--key", help="private key (PEM) of --cert")
    parser.add_argument("--sudi-cert", help="SUDI certificate (PEM, RSA): send SUDI_DATA in AUTH_RESPONSE")
    parser.add_argument("--sudi-key", help="private key (PEM) of --sudi-cert")
    parser.add_argument("--keepalives", type=int, default=1,
                        help="REQUEST_IN_PROGRESS messages before KEY_GENERATE_RESPONSE (default 1)")
    parser.add_argument("--timeout", type=float, default=30.0, help="socket timeout in seconds")
    parser.add_argument("--verbose", action="store_true", help="trace messages on stderr")
    args = parser.parse_args(argv)
    if bool(args.cert) != bool(args.key):
        parser.error("--cert and --key go together")
    if bool(args.sudi_cert) != bool(args.sudi_key):
        parser.error("--sudi-cert and --sudi-key go together")
    if args.keepalives < 0 or args.keepalives > 100:
        parser.error("--keepalives must be 0-100")
    if any(ch not in "0123456789" for ch in args.password):
        parser.error("--password must be digits")
    try:
        parse_server(args.server)
    except argparse.ArgumentTypeError as err:
        parser.error(str(err))
    return args


def main(argv):
    """Entry point: map the session outcome to the documented output line and exit code."""
    args = parse_args(argv)
    protocol.VERBOSE = args.verbose
    try:
        with tempfile.TemporaryDirectory(prefix="capf-client-") as workdir:
            reason, action = run_session(args, workdir)
    except ProtocolError as err:
        print("capf-client: error: %s" % err, file=sys.stderr)
        return 1
    except OSError as err:
        print("capf-client: I/O error: %s" % err, file=sys.stderr)
        return 1
    print("END_SESSION reason=%d action=%s" % (reason, action))
    return 0 if reason in (REASON_NO_ACTION, REASON_UPDATE_CERTIFICATE) else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
