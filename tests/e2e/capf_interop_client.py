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
"""

import argparse
import hashlib
import os
import random
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

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


# --- element (TLV) encoding, spec §3.3 ------------------------------------------------

def encode_element(tag, value):
    """Encode one tag | u16 length | value element; refuse values that cannot fit."""
    if len(value) > 0xFFFF:
        raise ProtocolError("element %d too long (%d bytes)" % (tag, len(value)))
    return struct.pack(">BH", tag, len(value)) + value


def u8(value):
    """A u8 element value (length 1)."""
    return struct.pack(">B", value)


def c_string(text):
    """A NUL-terminated string value; the empty string is the single byte 00 (§3.3)."""
    return text.encode("utf-8") + b"\x00"


def decode_elements(body):
    """Split a message body into {tag: value}, checking every bound (§10).

    Repeated tags are rejected rather than merged or overwritten, which the spec
    allows (§3.3) and which catches a server that emits an element twice."""
    elements = {}
    pos = 0
    while pos < len(body):
        if pos + 3 > len(body):
            raise ProtocolError("partial element header at offset %d of %d" % (pos, len(body)))
        tag, length = struct.unpack_from(">BH", body, pos)
        pos += 3
        if pos + length > len(body):
            raise ProtocolError("element %d length %d runs past the body (%d bytes left)"
                                % (tag, length, len(body) - pos))
        if tag in elements:
            raise ProtocolError("element %d repeated" % tag)
        elements[tag] = body[pos:pos + length]
        pos += length
    return elements


def get_u8(elements, tag, required=True):
    """Return a u8 element, insisting on length 1 (§3.3: reject other lengths)."""
    value = elements.get(tag)
    if value is None:
        if required:
            raise ProtocolError("missing element %d" % tag)
        return None
    if len(value) != 1:
        raise ProtocolError("element %d must be a u8, got %d bytes" % (tag, len(value)))
    return value[0]


def get_u16(elements, tag, required=True):
    """Return a u16 element, insisting on length 2."""
    value = elements.get(tag)
    if value is None:
        if required:
            raise ProtocolError("missing element %d" % tag)
        return None
    if len(value) != 2:
        raise ProtocolError("element %d must be a u16, got %d bytes" % (tag, len(value)))
    return struct.unpack(">H", value)[0]


def check_only_tags(elements, allowed, command):
    """Log (but tolerate) tags the spec does not list for this server message; the
    spec says unknown tags are skipped (§10), so this is diagnostic only."""
    for tag in elements:
        if tag not in allowed:
            trace("ignoring unexpected element %d in %s" % (tag, COMMAND_NAMES.get(command, command)))


# --- framing, spec §2.3 and §3 --------------------------------------------------------

class Channel:
    """One TLS connection carrying CAPF frames.

    Reads follow the spec's read rule (exactly 8 header bytes, then loop for the body);
    writes follow the write rule (header+body in one write) unless --split asks for the
    opposite to prove that the server reassembles split messages."""

    def __init__(self, tls, split):
        self.tls = tls
        self.split = split
        self.session_id = None

    def read_exact(self, count, what):
        """Loop on recv until `count` bytes arrive; EOF in the middle is an error because
        a TLS record boundary is not a message boundary."""
        chunks = []
        got = 0
        while got < count:
            try:
                chunk = self.tls.recv(count - got)
            except socket.timeout:
                raise ProtocolError("timed out reading %s (%d of %d bytes)" % (what, got, count))
            if not chunk:
                raise ProtocolError("connection closed while reading %s (%d of %d bytes)"
                                    % (what, got, count))
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def read_message(self):
        """Read one frame and return (command, {tag: value}).

        The first frame fixes the session id; every later frame must repeat it (§3.2)."""
        header = self.read_exact(HEADER_LEN, "message header")
        proto, command, session_id, length = struct.unpack(">BBIH", header)
        if proto != PROTOCOL_ID:
            raise ProtocolError("protocol id 0x%02x, expected 0x55" % proto)
        body = self.read_exact(length, "message body") if length else b""
        if self.session_id is None:
            if session_id == 0:
                raise ProtocolError("server chose session id 0")
            self.session_id = session_id
        elif session_id != self.session_id:
            raise ProtocolError("session id %d, expected %d" % (session_id, self.session_id))
        elements = decode_elements(body)
        trace("<- %s sid=%d len=%d tags=%s" % (COMMAND_NAMES.get(command, command), session_id,
                                              length, sorted(elements)))
        return command, elements

    def send_message(self, command, elements):
        """Send one frame built from a list of (tag, value) pairs, echoing the session id."""
        body = b"".join(encode_element(tag, value) for tag, value in elements)
        if len(body) > 0xFFFF:
            raise ProtocolError("message body too long (%d bytes)" % len(body))
        header = struct.pack(">BBIH", PROTOCOL_ID, command, self.session_id, len(body))
        trace("-> %s len=%d tags=%s" % (COMMAND_NAMES.get(command, command), len(body),
                                       [tag for tag, _ in elements]))
        try:
            if self.split and body:
                self.tls.sendall(header)
                time.sleep(0.05)
                self.tls.sendall(body)
            else:
                self.tls.sendall(header + body)
        except OSError as err:
            raise ProtocolError("write of %s failed: %s" % (COMMAND_NAMES.get(command, command), err))


# --- DER helpers (bounded, just enough to inspect SPKIs and certificates) -----------

def der_read(buf, pos, end):
    """Parse one DER TLV at buf[pos:end]; return (tag, content_start, content_end).

    Only definite lengths of up to 4 length bytes are accepted, which covers every
    certificate or key this client will ever see."""
    if pos + 2 > end:
        raise ProtocolError("DER: truncated header at %d" % pos)
    tag = buf[pos]
    first = buf[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > end:
            raise ProtocolError("DER: bad length encoding")
        length = int.from_bytes(buf[pos:pos + count], "big")
        pos += count
    if pos + length > end:
        raise ProtocolError("DER: value runs past its container")
    return tag, pos, pos + length


def spki_key_kind(spki):
    """Return ("rsa", None) or ("ec", curve_name) for a DER SubjectPublicKeyInfo.

    Used to choose the proof-of-possession signature format (§7.3)."""
    tag, start, end = der_read(spki, 0, len(spki))
    if tag != 0x30 or end != len(spki):
        raise ProtocolError("SPKI is not one DER SEQUENCE")
    tag, alg_start, alg_end = der_read(spki, start, end)
    if tag != 0x30:
        raise ProtocolError("SPKI algorithm is not a SEQUENCE")
    tag, oid_start, oid_end = der_read(spki, alg_start, alg_end)
    if tag != 0x06:
        raise ProtocolError("SPKI algorithm has no OID")
    oid = spki[oid_start:oid_end]
    if oid == OID_RSA_ENCRYPTION:
        return "rsa", None
    if oid == OID_EC_PUBLIC_KEY:
        tag, p_start, p_end = der_read(spki, oid_end, alg_end)
        if tag != 0x06:
            raise ProtocolError("EC SPKI without a named curve")
        return "ec", OID_CURVES.get(spki[p_start:p_end], "unknown")
    raise ProtocolError("unsupported key algorithm OID %s" % oid.hex())


def check_single_der(der, what):
    """Insist that `der` is exactly one DER SEQUENCE with nothing trailing, so that a
    wrong wrapper offset (§5.1) is caught instead of handed to openssl."""
    if not der:
        raise ProtocolError("%s is empty" % what)
    tag, _, end = der_read(der, 0, len(der))
    if tag != 0x30 or end != len(der):
        raise ProtocolError("%s is not exactly one DER SEQUENCE (%d of %d bytes used)"
                            % (what, end, len(der)))


# --- CERTIFICATE element wrapper, spec §5.1 -----------------------------------------

def wrap_certificate(der, cert_type=CERT_TYPE_LSC):
    """Build 01 | LL LL | 00 | TT | DER with LL = N + 2."""
    if len(der) + 5 > 0xFFFF:
        raise ProtocolError("certificate too large for the CERTIFICATE element")
    return struct.pack(">BHBB", 1, len(der) + 2, 0, cert_type) + der


def unwrap_certificate(value):
    """Parse a CERTIFICATE element strictly: byte 0 is 1, LL == len - 3, byte 3 is 0,
    byte 4 is the certificate type; returns (type, DER)."""
    if len(value) < 6:
        raise ProtocolError("CERTIFICATE element too short (%d bytes)" % len(value))
    marker, inner_len, zero, cert_type = struct.unpack_from(">BHBB", value, 0)
    if marker != 1:
        raise ProtocolError("CERTIFICATE wrapper byte 0 is %d, expected 1" % marker)
    if inner_len != len(value) - 3:
        raise ProtocolError("CERTIFICATE wrapper length %d, expected %d" % (inner_len, len(value) - 3))
    if zero != 0:
        raise ProtocolError("CERTIFICATE wrapper byte 3 is %d, expected 0" % zero)
    der = value[5:]
    check_single_der(der, "wrapped certificate")
    return cert_type, der


# --- openssl CLI wrappers -----------------------------------------------------------

def openssl(args, data=None):
    """Run `openssl ARGS` and return its stdout bytes; any failure is a client error
    because the crypto side of the client must not fail silently."""
    try:
        proc = subprocess.run(["openssl"] + args, input=data, capture_output=True, check=False)
    except OSError as err:
        raise ProtocolError("cannot run openssl: %s" % err)
    if proc.returncode != 0:
        raise ProtocolError("openssl %s failed: %s" % (args[0], proc.stderr.decode(errors="replace").strip()))
    return proc.stdout


def generate_key(path, key_type, key_size, curve):
    """Generate the requested private key (PEM) and return its SPKI DER."""
    if key_type == KEY_TYPE_RSA:
        openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:%d" % key_size,
                 "-out", path])
    else:
        openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:%s" % CURVES[curve],
                 "-pkeyopt", "ec_param_enc:named_curve", "-out", path])
    os.chmod(path, 0o600)
    return public_key_der(path)


def public_key_der(key_path):
    """SPKI DER of a private key file."""
    return openssl(["pkey", "-in", key_path, "-pubout", "-outform", "DER"])


def certificate_der(cert_path):
    """DER of a PEM (or DER) certificate file."""
    with open(cert_path, "rb") as handle:
        data = handle.read()
    inform = "PEM" if b"-----BEGIN" in data else "DER"
    return openssl(["x509", "-inform", inform, "-outform", "DER"], data)


def certificate_spki(der):
    """SPKI DER of a DER certificate (for the key-matches-certificate check)."""
    pem_pub = openssl(["x509", "-inform", "DER", "-noout", "-pubkey"], der)
    return openssl(["pkey", "-pubin", "-outform", "DER"], pem_pub)


def sign_digest(key_path, digest, workdir, label):
    """Sign a precomputed digest with the key, as §7.3 requires.

    RSA: raw PKCS#1 v1.5 type 1 over the bare digest (no DigestInfo), which is what
    `pkeyutl -sign` does when no -digest is given.  EC: ECDSA over the digest, DER."""
    digest_path = os.path.join(workdir, label + ".bin")
    with open(digest_path, "wb") as handle:
        handle.write(digest)
    kind, _ = spki_key_kind(public_key_der(key_path))
    args = ["pkeyutl", "-sign", "-inkey", key_path, "-in", digest_path]
    if kind == "rsa":
        args += ["-pkeyopt", "rsa_padding_mode:pkcs1"]
    return openssl(args)


# --- session steps ------------------------------------------------------------------

def build_auth_response(args, workdir, session_id):
    """AUTH_RESPONSE elements (§6.1, §7): REASON=1, VERSION, DEVICE_NAME, the optional
    PASSWORD, the certificate proof when --cert/--key are given, and SUDI_DATA when
    --sudi-cert/--sudi-key are given."""
    elements = [(TAG_REASON, u8(REASON_UPDATE_CERTIFICATE)),
                (TAG_VERSION, u8(args.version))]
    if not args.no_password:
        elements.append((TAG_PASSWORD, c_string(args.password)))
    elements.append((TAG_DEVICE_NAME, c_string(args.name)))
    if args.cert:
        der = certificate_der(args.cert)
        message = args.name.encode("utf-8") + b"\x00" + der
        sha1_sig = sign_digest(args.key, hashlib.sha1(message).digest(), workdir, "sha1")
        sha512_sig = sign_digest(args.key, hashlib.sha512(message).digest(), workdir, "sha512")
        elements.append((TAG_CERTIFICATE, wrap_certificate(der)))
        elements.append((TAG_SIGNED_DATA, sha1_sig))
        elements.append((TAG_SHA2_SIGNED_DATA,
                         struct.pack(">BH", HASH_SHA512, len(sha512_sig)) + sha512_sig))
    if args.sudi_cert:
        elements.append((TAG_SUDI_DATA, build_sudi_data(args, workdir, session_id)))
    if args.shuffle:
        random.shuffle(elements)
    return elements


def build_sudi_data(args, workdir, session_id):
    """SUDI_DATA (§5.3, §7.4): three `code u8 | len u16 | bytes` blocks - the SUDI
    certificate (code 0), then SHA-1 (code 1) and SHA-512 (code 3) signatures over
    M = session id as u32 *little-endian* || DER(SUDI certificate), raw RSA as §7.3."""
    der = certificate_der(args.sudi_cert)
    message = struct.pack("<I", session_id) + der
    sha1_sig = sign_digest(args.sudi_key, hashlib.sha1(message).digest(), workdir, "sudi-sha1")
    sha512_sig = sign_digest(args.sudi_key, hashlib.sha512(message).digest(), workdir, "sudi-sha512")
    blocks = [(0, der), (HASH_SHA1, sha1_sig), (HASH_SHA512, sha512_sig)]
    return b"".join(struct.pack(">BH", code, len(value)) + value for code, value in blocks)


def handle_key_generate(channel, elements, args, workdir, state):
    """Answer KEY_GENERATE_REQUEST (§6.2): keep-alives, then the new SPKI, or a failure
    REASON if the request asks for something this client cannot generate."""
    check_only_tags(elements, {TAG_KEY_SIZE, TAG_KEY_TYPE, TAG_CURVE}, CMD_KEY_GENERATE_REQUEST)
    key_type = get_u8(elements, TAG_KEY_TYPE, required=False)
    if key_type is None:
        key_type = KEY_TYPE_RSA  # §6.2: KEY_TYPE absent means RSA (CUCM → Jabber)
    key_size = get_u16(elements, TAG_KEY_SIZE, required=False)
    curve = get_u8(elements, TAG_CURVE, required=False)
    problem = None
    if key_type == KEY_TYPE_RSA:
        if key_size is None:
            problem = "RSA requested without KEY_SIZE"
        elif key_size not in RSA_SIZES:
            problem = "unsupported RSA size %d" % key_size
    elif key_type == KEY_TYPE_EC:
        if curve not in CURVES:
            problem = "unsupported or missing CURVE %r" % curve
    else:
        problem = "unknown KEY_TYPE %d" % key_type
    for _ in range(args.keepalives):
        channel.send_message(CMD_REQUEST_IN_PROGRESS, [])
        time.sleep(0.05)
    if problem:
        print("capf-client: refusing key generation: " + problem, file=sys.stderr)
        channel.send_message(CMD_KEY_GENERATE_RESPONSE, [(TAG_REASON, u8(REASON_INVALID_ELEMENT))])
        return
    key_path = os.path.join(workdir, "new.key")
    spki = generate_key(key_path, key_type, key_size, curve)
    state["key_path"] = key_path
    state["spki"] = spki
    channel.send_message(CMD_KEY_GENERATE_RESPONSE, [(TAG_PUBLIC_KEY, spki)])


def handle_store(channel, elements, args, state):
    """Answer STORE_CERTIFICATE_REQUEST: accept the LSC only if it is well wrapped,
    of type LSC, and carries exactly the key we generated; then install it."""
    check_only_tags(elements, {TAG_CERTIFICATE_TYPE, TAG_CERTIFICATE}, CMD_STORE_CERTIFICATE_REQUEST)
    if "spki" not in state:
        raise ProtocolError("STORE_CERTIFICATE_REQUEST before any key was generated")
    cert_type = get_u8(elements, TAG_CERTIFICATE_TYPE)
    if cert_type != CERT_TYPE_LSC:
        raise ProtocolError("CERTIFICATE_TYPE %d, expected 1 (LSC)" % cert_type)
    if TAG_CERTIFICATE not in elements:
        raise ProtocolError("STORE_CERTIFICATE_REQUEST without CERTIFICATE")
    inner_type, der = unwrap_certificate(elements[TAG_CERTIFICATE])
    if inner_type != CERT_TYPE_LSC:
        raise ProtocolError("CERTIFICATE wrapper type %d, expected 1" % inner_type)
    if certificate_spki(der) != state["spki"]:
        print("capf-client: issued certificate does not carry our public key", file=sys.stderr)
        channel.send_message(CMD_STORE_CERTIFICATE_RESPONSE, [(TAG_REASON, u8(REASON_INVALID_ELEMENT))])
        return
    pem = openssl(["x509", "-inform", "DER", "-outform", "PEM"], der)
    os.makedirs(args.out, exist_ok=True)
    cert_out, key_out = out_paths(args)
    with open(state["key_path"], "rb") as handle:
        key_pem = handle.read()
    write_file(key_out, key_pem, 0o600)
    write_file(cert_out, pem, 0o644)
    state["action"] = "installed"
    channel.send_message(CMD_STORE_CERTIFICATE_RESPONSE, [(TAG_REASON, u8(REASON_UPDATE_CERTIFICATE))])


def handle_fetch(channel, elements, args, state):
    """Answer FETCH_CERTIFICATE_REQUEST (§6.3) with --cert, or REASON=7 if we hold none."""
    check_only_tags(elements, {TAG_CERTIFICATE_TYPE}, CMD_FETCH_CERTIFICATE_REQUEST)
    if not args.cert:
        channel.send_message(CMD_FETCH_CERTIFICATE_RESPONSE, [(TAG_REASON, u8(REASON_INVALID_ELEMENT))])
        return
    der = certificate_der(args.cert)
    state["action"] = "fetched"
    channel.send_message(CMD_FETCH_CERTIFICATE_RESPONSE,
                         [(TAG_REASON, u8(REASON_UPDATE_CERTIFICATE)),
                          (TAG_CERTIFICATE, wrap_certificate(der))])


def handle_delete(channel, elements, args, state):
    """Answer DELETE_CERTIFICATE_REQUEST (§6.4): remove the installed LSC files and
    report 1, or 7 when there was nothing to delete (§6.4 '7 = nothing to delete')."""
    check_only_tags(elements, set(), CMD_DELETE_CERTIFICATE_REQUEST)
    removed = False
    for path in out_paths(args):
        if os.path.exists(path):
            os.remove(path)
            removed = True
    if removed:
        state["action"] = "deleted"
    reason = REASON_UPDATE_CERTIFICATE if removed else REASON_INVALID_ELEMENT
    channel.send_message(CMD_DELETE_CERTIFICATE_RESPONSE, [(TAG_REASON, u8(reason))])


def out_paths(args):
    """(certificate, key) paths of the installed LSC."""
    return (os.path.join(args.out, args.name + ".pem"), os.path.join(args.out, args.name + ".key"))


def write_file(path, data, mode):
    """Write atomically (temp file + rename) so a failed session never leaves half a file."""
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def expect_close(channel):
    """After END_SESSION the server must close (§6.5: 'Every path ends with exactly one
    END_SESSION ... and then the server closes'); any further byte is a protocol violation."""
    try:
        extra = channel.tls.recv(1)
    except socket.timeout:
        raise ProtocolError("server did not close the connection after END_SESSION")
    except (ssl.SSLError, OSError):
        return  # an abrupt TCP close after END_SESSION is still a close
    if extra:
        raise ProtocolError("data after END_SESSION")


def run_session(args, workdir):
    """Run one CAPF session and return (reason, action)."""
    host, port = parse_server(args.server)
    context = ssl.create_default_context(cafile=args.capf_cert)
    context.check_hostname = False
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        raw = socket.create_connection((host, port), timeout=args.timeout)
        tls = context.wrap_socket(raw, server_hostname=None)
    except (OSError, ssl.SSLError) as err:
        raise ProtocolError("cannot connect to %s: %s" % (args.server, err))
    with tls:
        tls.settimeout(args.timeout)
        trace("TLS %s %s" % (tls.version(), tls.cipher()[0]))
        channel = Channel(tls, args.split)

        command, elements = channel.read_message()
        if command != CMD_AUTH_REQUEST:
            raise ProtocolError("first message is %s, expected AUTH_REQUEST"
                                % COMMAND_NAMES.get(command, command))
        check_only_tags(elements, {TAG_VERSION, TAG_AUTH_TYPE}, command)
        server_version = get_u8(elements, TAG_VERSION)
        auth_type = get_u8(elements, TAG_AUTH_TYPE, required=False)
        trace("server VERSION=%d AUTH_TYPE=%s session=%d" % (server_version, auth_type, channel.session_id))
        channel.send_message(CMD_AUTH_RESPONSE, build_auth_response(args, workdir, channel.session_id))

        state = {"action": "none"}
        handlers = {
            CMD_KEY_GENERATE_REQUEST: lambda e: handle_key_generate(channel, e, args, workdir, state),
            CMD_STORE_CERTIFICATE_REQUEST: lambda e: handle_store(channel, e, args, state),
            CMD_FETCH_CERTIFICATE_REQUEST: lambda e: handle_fetch(channel, e, args, state),
            CMD_DELETE_CERTIFICATE_REQUEST: lambda e: handle_delete(channel, e, args, state),
        }
        seen = set()
        while True:
            command, elements = channel.read_message()
            if command == CMD_END_SESSION:
                check_only_tags(elements, {TAG_REASON}, command)
                reason = get_u8(elements, TAG_REASON)
                expect_close(channel)
                return reason, state["action"]
            if command not in handlers:
                raise ProtocolError("unexpected command %s" % COMMAND_NAMES.get(command, command))
            if command in seen:  # one connection carries at most one operation (§2.1)
                raise ProtocolError("%s sent twice" % COMMAND_NAMES[command])
            seen.add(command)
            handlers[command](elements)


def parse_server(text):
    """Split HOST:PORT."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError("--server must be HOST:PORT")
    return host, int(port)


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
    global VERBOSE
    args = parse_args(argv)
    VERBOSE = args.verbose
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
