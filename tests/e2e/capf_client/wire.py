"""CAPF on the wire: elements (TLV, spec §3.3) and whole frames over one TLS
connection (§2.3 read and write rules, §3)."""

import socket
import struct
import time

from .protocol import COMMAND_NAMES, HEADER_LEN, PROTOCOL_ID, ProtocolError, trace


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
