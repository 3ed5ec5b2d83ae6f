"""One CAPF session as a phone plays it (spec §6, §7): AUTH_RESPONSE with its proofs,
the answers to KEY_GENERATE, STORE, FETCH and DELETE requests, and END_SESSION."""

import argparse
import hashlib
import os
import random
import socket
import ssl
import struct
import sys
import time

from .protocol import (
    CERT_TYPE_LSC,
    CMD_AUTH_REQUEST,
    CMD_AUTH_RESPONSE,
    CMD_DELETE_CERTIFICATE_REQUEST,
    CMD_DELETE_CERTIFICATE_RESPONSE,
    CMD_END_SESSION,
    CMD_FETCH_CERTIFICATE_REQUEST,
    CMD_FETCH_CERTIFICATE_RESPONSE,
    CMD_KEY_GENERATE_REQUEST,
    CMD_KEY_GENERATE_RESPONSE,
    CMD_REQUEST_IN_PROGRESS,
    CMD_STORE_CERTIFICATE_REQUEST,
    CMD_STORE_CERTIFICATE_RESPONSE,
    COMMAND_NAMES,
    CURVES,
    HASH_SHA1,
    HASH_SHA512,
    KEY_TYPE_EC,
    KEY_TYPE_RSA,
    ProtocolError,
    REASON_INVALID_ELEMENT,
    REASON_UPDATE_CERTIFICATE,
    RSA_SIZES,
    TAG_AUTH_TYPE,
    TAG_CERTIFICATE,
    TAG_CERTIFICATE_TYPE,
    TAG_CURVE,
    TAG_DEVICE_NAME,
    TAG_KEY_SIZE,
    TAG_KEY_TYPE,
    TAG_PASSWORD,
    TAG_PUBLIC_KEY,
    TAG_REASON,
    TAG_SHA2_SIGNED_DATA,
    TAG_SIGNED_DATA,
    TAG_SUDI_DATA,
    TAG_VERSION,
    trace,
)
from .wire import Channel, c_string, check_only_tags, get_u16, get_u8, u8
from .pki import (
    certificate_der,
    certificate_spki,
    generate_key,
    openssl,
    sign_digest,
    unwrap_certificate,
    wrap_certificate,
)


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
