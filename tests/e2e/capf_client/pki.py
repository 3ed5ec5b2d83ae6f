"""Keys and certificates: bounded DER inspection, the CERTIFICATE element wrapper
(spec §5.1), and the `openssl` command-line tool for every cryptographic step."""

import os
import struct
import subprocess

from .protocol import (
    CERT_TYPE_LSC,
    CURVES,
    KEY_TYPE_RSA,
    OID_CURVES,
    OID_EC_PUBLIC_KEY,
    OID_RSA_ENCRYPTION,
    ProtocolError,
)


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
