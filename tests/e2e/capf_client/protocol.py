"""The protocol's numbers (module/capf/PROTOCOL.md §3, §4.1, §4.2), the client's one
error type, and its diagnostics on stderr."""

import sys


# --- protocol constants (spec §3, §4.1, §4.2) -------------------------------------------

PROTOCOL_ID = 0x55
HEADER_LEN = 8

CMD_AUTH_REQUEST = 1
CMD_AUTH_RESPONSE = 2
CMD_KEY_GENERATE_REQUEST = 3
CMD_KEY_GENERATE_RESPONSE = 4
CMD_STORE_CERTIFICATE_REQUEST = 9
CMD_STORE_CERTIFICATE_RESPONSE = 10
CMD_FETCH_CERTIFICATE_REQUEST = 11
CMD_FETCH_CERTIFICATE_RESPONSE = 12
CMD_DELETE_CERTIFICATE_REQUEST = 13
CMD_DELETE_CERTIFICATE_RESPONSE = 14
CMD_END_SESSION = 15
CMD_REQUEST_IN_PROGRESS = 17

TAG_REASON = 1
TAG_REASON_INFO = 2
TAG_CERTIFICATE_TYPE = 3
TAG_CERTIFICATE = 4
TAG_SIGNED_DATA = 6
TAG_VERSION = 7
TAG_AUTH_TYPE = 8
TAG_PUBLIC_KEY = 9
TAG_KEY_SIZE = 10
TAG_PASSWORD = 11
TAG_DEVICE_NAME = 13
TAG_SUDI_DATA = 16
TAG_KEY_TYPE = 17
TAG_CURVE = 18
TAG_SHA2_SIGNED_DATA = 20

REASON_NO_ACTION = 0
REASON_UPDATE_CERTIFICATE = 1
REASON_INVALID_ELEMENT = 7

CERT_TYPE_LSC = 1
HASH_SHA1 = 1
HASH_SHA512 = 3

KEY_TYPE_RSA = 0
KEY_TYPE_EC = 1
CURVES = {0: "prime256v1", 1: "secp384r1", 2: "secp521r1"}

# RSA sizes this client agrees to generate; anything else is answered with a failure
# REASON in KEY_GENERATE_RESPONSE, as a real phone would do (§6.2).
RSA_SIZES = (1024, 2048, 3072, 4096)

# DER OIDs (content bytes only) needed to tell RSA from EC keys in an SPKI.
OID_RSA_ENCRYPTION = bytes.fromhex("2a864886f70d010101")
OID_EC_PUBLIC_KEY = bytes.fromhex("2a8648ce3d0201")
OID_CURVES = {
    bytes.fromhex("2a8648ce3d030107"): "prime256v1",
    bytes.fromhex("2b81040022"): "secp384r1",
    bytes.fromhex("2b81040023"): "secp521r1",
}

COMMAND_NAMES = {
    1: "AUTH_REQUEST", 2: "AUTH_RESPONSE", 3: "KEY_GENERATE_REQUEST",
    4: "KEY_GENERATE_RESPONSE", 9: "STORE_CERTIFICATE_REQUEST",
    10: "STORE_CERTIFICATE_RESPONSE", 11: "FETCH_CERTIFICATE_REQUEST",
    12: "FETCH_CERTIFICATE_RESPONSE", 13: "DELETE_CERTIFICATE_REQUEST",
    14: "DELETE_CERTIFICATE_RESPONSE", 15: "END_SESSION", 16: "RETRY_LATER",
    17: "REQUEST_IN_PROGRESS",
}


class ProtocolError(Exception):
    """Anything the server sent (or failed to send) that the spec does not allow."""


# --- logging ------------------------------------------------------------------------

VERBOSE = False


def trace(text):
    """Print a diagnostic on stderr when --verbose is on; stdout is reserved for the
    single END_SESSION line that the shell test parses."""
    if VERBOSE:
        print("capf-client: " + text, file=sys.stderr)
