#pragma once

// CAPF frames and elements: bounded parsing and writing. Every length read from
// the wire is checked against what is actually there before it is used.

#include "capf/protocol.h"
#include "pki/bytes.h"
#include "pki/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lscgate::capf {

struct Header {
    std::uint8_t command = 0;
    std::uint32_t session_id = 0;
    std::uint16_t length = 0;
};

struct Element {
    std::uint8_t tag = 0;
    Bytes value;
};

class Message {
public:
    Message() = default;
    Message(Command command, std::uint32_t session_id) : command_(static_cast<std::uint8_t>(command)), session_id_(session_id) {}
    Message(std::uint8_t command, std::uint32_t session_id) : command_(command), session_id_(session_id) {}

    std::uint8_t command() const { return command_; }
    bool is(Command c) const { return command_ == static_cast<std::uint8_t>(c); }
    std::uint32_t session_id() const { return session_id_; }
    const std::vector<Element>& elements() const { return elements_; }

    Message& add_raw(std::uint8_t tag, ByteView value);
    Message& add_bytes(Tag tag, ByteView value) { return add_raw(static_cast<std::uint8_t>(tag), value); }
    Message& add_u8(Tag tag, std::uint8_t value);
    Message& add_u16(Tag tag, std::uint16_t value);
    Message& add_string(Tag tag, std::string_view value);  // appends the NUL terminator

    bool has(Tag tag) const { return find(tag) != nullptr; }
    // The last occurrence wins when a tag repeats (as the reference peers do).
    const Bytes* find(Tag tag) const;
    Result<std::optional<std::uint8_t>> u8(Tag tag) const;
    Result<std::optional<std::uint16_t>> u16(Tag tag) const;
    Result<std::optional<std::string>> text(Tag tag) const;

private:
    std::uint8_t command_ = 0;
    std::uint32_t session_id_ = 0;
    std::vector<Element> elements_;
};

// The first tag that occurs more than once, if any.
std::optional<std::uint8_t> repeated_tag(const Message& message);

Result<Header> decode_header(ByteView bytes);
Result<Message> decode_body(const Header& header, ByteView body);
// A whole frame (header + body) in one buffer; trailing bytes are an error.
Result<Message> decode_frame(ByteView frame);
// Errors only when the body would exceed 65535 bytes.
Result<Bytes> encode(const Message& message);

// CERTIFICATE element value (§5.1): 01 | LL LL | 00 | TT | DER, LL = N + 2.
Bytes wrap_certificate(ByteView der, std::uint8_t type);
struct WrappedCertificate {
    std::uint8_t type = 0;
    Bytes der;
};
Result<WrappedCertificate> unwrap_certificate(ByteView value);

// SHA2_SIGNED_DATA (§5.2): HH | LL LL | signature
struct HashedSignature {
    std::uint8_t hash = 0;
    Bytes signature;
};
Bytes encode_hashed_signature(const HashedSignature& s);
Result<HashedSignature> decode_hashed_signature(ByteView value);

// SUDI_DATA (§5.3): three sub-blocks code | len u16 | bytes
struct SudiData {
    Bytes certificate;
    HashedSignature sha1;
    HashedSignature sha512;
};
Bytes encode_sudi(const SudiData& s);
Result<SudiData> decode_sudi(ByteView value);

}  // namespace lscgate::capf
