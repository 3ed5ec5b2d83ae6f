#include "capf/codec.h"

#include <algorithm>
#include <limits>

namespace lscgate::capf {
namespace {

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
std::uint32_t be32(const std::uint8_t* p) {
    return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
           (static_cast<std::uint32_t>(p[2]) << 8) | p[3];
}
void put16(Bytes& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

}  // namespace

Message& Message::add_raw(std::uint8_t tag, ByteView value) {
    elements_.push_back({tag, Bytes(value.begin(), value.end())});
    return *this;
}

Message& Message::add_u8(Tag tag, std::uint8_t value) {
    const std::uint8_t v[1] = {value};
    return add_bytes(tag, ByteView(v, 1));
}

Message& Message::add_u16(Tag tag, std::uint16_t value) {
    const std::uint8_t v[2] = {static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value & 0xff)};
    return add_bytes(tag, ByteView(v, 2));
}

Message& Message::add_string(Tag tag, std::string_view value) {
    Bytes v(value.begin(), value.end());
    v.push_back(0);
    return add_bytes(tag, v);
}

const Bytes* Message::find(Tag tag) const {
    const auto t = static_cast<std::uint8_t>(tag);
    for (auto it = elements_.rbegin(); it != elements_.rend(); ++it)
        if (it->tag == t) return &it->value;
    return nullptr;
}

Result<std::optional<std::uint8_t>> Message::u8(Tag tag) const {
    const Bytes* v = find(tag);
    if (v == nullptr) return std::optional<std::uint8_t>{};
    if (v->size() != 1) return fail(tag_name(static_cast<std::uint8_t>(tag)) + " must be 1 byte, got " + std::to_string(v->size()));
    return std::optional<std::uint8_t>{(*v)[0]};
}

Result<std::optional<std::uint16_t>> Message::u16(Tag tag) const {
    const Bytes* v = find(tag);
    if (v == nullptr) return std::optional<std::uint16_t>{};
    if (v->size() != 2) return fail(tag_name(static_cast<std::uint8_t>(tag)) + " must be 2 bytes, got " + std::to_string(v->size()));
    return std::optional<std::uint16_t>{be16(v->data())};
}

Result<std::optional<std::string>> Message::text(Tag tag) const {
    const Bytes* v = find(tag);
    if (v == nullptr) return std::optional<std::string>{};
    // The NUL terminator is expected but tolerated when missing (§3.3); a NUL
    // anywhere else would let "SEP1\0x" and "SEP1" differ, so it is refused.
    std::size_t n = v->size();
    if (n > 0 && (*v)[n - 1] == 0) --n;
    if (std::find(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(n), 0) != v->begin() + static_cast<std::ptrdiff_t>(n))
        return fail(tag_name(static_cast<std::uint8_t>(tag)) + " contains an embedded NUL");
    return std::optional<std::string>{std::string(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(n))};
}

std::optional<std::uint8_t> repeated_tag(const Message& message) {
    bool seen[256] = {};
    for (const auto& e : message.elements()) {
        if (seen[e.tag]) return e.tag;
        seen[e.tag] = true;
    }
    return std::nullopt;
}

Result<Header> decode_header(ByteView bytes) {
    if (bytes.size() != kHeaderSize) return fail("header must be 8 bytes, got " + std::to_string(bytes.size()));
    if (bytes[0] != kProtocolId) return fail("bad protocol id 0x" + to_hex(bytes.subspan(0, 1)) + " (expected 0x55)");
    Header h;
    h.command = bytes[1];
    h.session_id = be32(bytes.data() + 2);
    h.length = be16(bytes.data() + 6);
    return h;
}

Result<Message> decode_body(const Header& header, ByteView body) {
    if (body.size() != header.length)
        return fail("body is " + std::to_string(body.size()) + " bytes, header says " + std::to_string(header.length));
    Message m(header.command, header.session_id);
    std::size_t pos = 0;
    while (pos < body.size()) {
        if (pos + 3 > body.size()) return fail("truncated element header at offset " + std::to_string(pos));
        const std::uint8_t tag = body[pos];
        const std::size_t len = be16(body.data() + pos + 1);
        if (pos + 3 + len > body.size())
            return fail(tag_name(tag) + " length " + std::to_string(len) + " runs past the end of the body");
        m.add_raw(tag, body.subspan(pos + 3, len));
        pos += 3 + len;
    }
    return m;
}

Result<Message> decode_frame(ByteView frame) {
    if (frame.size() < kHeaderSize) return fail("frame shorter than the 8-byte header");
    auto h = decode_header(frame.subspan(0, kHeaderSize));
    if (!h) return h.error();
    return decode_body(*h, frame.subspan(kHeaderSize));
}

Result<Bytes> encode(const Message& message) {
    std::size_t body = 0;
    for (const auto& e : message.elements()) {
        if (e.value.size() > std::numeric_limits<std::uint16_t>::max())
            return fail(tag_name(e.tag) + " value exceeds 65535 bytes");
        body += 3 + e.value.size();
    }
    if (body > std::numeric_limits<std::uint16_t>::max()) return fail("message body exceeds 65535 bytes");
    Bytes out;
    out.reserve(kHeaderSize + body);
    out.push_back(kProtocolId);
    out.push_back(message.command());
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(message.session_id() >> shift));
    put16(out, static_cast<std::uint16_t>(body));
    for (const auto& e : message.elements()) {
        out.push_back(e.tag);
        put16(out, static_cast<std::uint16_t>(e.value.size()));
        out.insert(out.end(), e.value.begin(), e.value.end());
    }
    return out;
}

Bytes wrap_certificate(ByteView der, std::uint8_t type) {
    Bytes v;
    v.reserve(der.size() + 5);
    v.push_back(0x01);
    put16(v, static_cast<std::uint16_t>(der.size() + 2));
    v.push_back(0x00);
    v.push_back(type);
    v.insert(v.end(), der.begin(), der.end());
    return v;
}

Result<WrappedCertificate> unwrap_certificate(ByteView value) {
    if (value.size() < 6) return fail("CERTIFICATE element too short (" + std::to_string(value.size()) + " bytes)");
    if (value[0] != 0x01) return fail("CERTIFICATE wrapper does not start with 0x01");
    const std::size_t inner = be16(value.data() + 1);
    if (inner != value.size() - 3)
        return fail("CERTIFICATE wrapper length " + std::to_string(inner) + " does not match element length " +
                    std::to_string(value.size()));
    WrappedCertificate w;
    w.type = value[4];
    w.der.assign(value.begin() + 5, value.end());
    return w;
}

Bytes encode_hashed_signature(const HashedSignature& s) {
    Bytes v;
    v.push_back(s.hash);
    put16(v, static_cast<std::uint16_t>(s.signature.size()));
    v.insert(v.end(), s.signature.begin(), s.signature.end());
    return v;
}

namespace {

Result<HashedSignature> read_block(ByteView value, std::size_t& pos, const char* what) {
    if (pos + 3 > value.size()) return fail(std::string(what) + ": truncated block header");
    HashedSignature s;
    s.hash = value[pos];
    const std::size_t len = be16(value.data() + pos + 1);
    if (pos + 3 + len > value.size()) return fail(std::string(what) + ": block length runs past the element");
    s.signature.assign(value.begin() + static_cast<std::ptrdiff_t>(pos + 3),
                       value.begin() + static_cast<std::ptrdiff_t>(pos + 3 + len));
    pos += 3 + len;
    return s;
}

}  // namespace

Result<HashedSignature> decode_hashed_signature(ByteView value) {
    std::size_t pos = 0;
    auto s = read_block(value, pos, "SHA2_SIGNED_DATA");
    if (!s) return s.error();
    if (pos != value.size()) return fail("SHA2_SIGNED_DATA has trailing bytes");
    return s;
}

Bytes encode_sudi(const SudiData& s) {
    Bytes v = encode_hashed_signature({0, s.certificate});
    const Bytes a = encode_hashed_signature(s.sha1);
    const Bytes b = encode_hashed_signature(s.sha512);
    v.insert(v.end(), a.begin(), a.end());
    v.insert(v.end(), b.begin(), b.end());
    return v;
}

Result<SudiData> decode_sudi(ByteView value) {
    std::size_t pos = 0;
    auto cert = read_block(value, pos, "SUDI_DATA certificate");
    if (!cert) return cert.error();
    auto sha1 = read_block(value, pos, "SUDI_DATA SHA-1 signature");
    if (!sha1) return sha1.error();
    auto sha512 = read_block(value, pos, "SUDI_DATA SHA-512 signature");
    if (!sha512) return sha512.error();
    if (pos != value.size()) return fail("SUDI_DATA has trailing bytes");
    return SudiData{std::move(cert->signature), std::move(*sha1), std::move(*sha512)};
}

}  // namespace lscgate::capf
