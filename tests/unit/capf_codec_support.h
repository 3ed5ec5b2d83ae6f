#pragma once

// Helpers shared by the CAPF codec tests (capf_codec_*_test.cpp,
// capf_frame_channel_test.cpp): frames written as hex text, encode and decode
// that throw on failure (the tests compare bytes, not errors), and hand-built
// frames with any body.

#include "capf/codec.h"
#include "capf/protocol.h"
#include "pki/bytes.h"

#include <cctype>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace lscgate::test {

// "55 01 00 ..." → bytes; whitespace is ignored.
inline Bytes hex(const std::string& text) {
    Bytes out;
    int nibble = -1;
    for (char c : text) {
        if (std::isspace(static_cast<unsigned char>(c)) != 0) continue;
        int v = 0;
        if (c >= '0' && c <= '9') v = c - '0';
        else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
        else throw std::invalid_argument("bad hex digit");
        if (nibble < 0) {
            nibble = v;
        } else {
            out.push_back(static_cast<std::uint8_t>(nibble * 16 + v));
            nibble = -1;
        }
    }
    if (nibble >= 0) throw std::invalid_argument("odd number of hex digits");
    return out;
}

inline Bytes encode_ok(const capf::Message& m) {
    auto r = capf::encode(m);
    if (!r) throw std::runtime_error("encode failed: " + r.message());
    return *r;
}

inline capf::Message decode_ok(const Bytes& frame) {
    auto r = capf::decode_frame(frame);
    if (!r) throw std::runtime_error("decode failed: " + r.message());
    return *r;
}

// A frame with the given command/session and a raw body, length taken from the body.
inline Bytes frame_with_body(std::uint8_t command, std::uint32_t sid, const Bytes& body) {
    Bytes f = {capf::kProtocolId, command, static_cast<std::uint8_t>(sid >> 24), static_cast<std::uint8_t>(sid >> 16),
               static_cast<std::uint8_t>(sid >> 8), static_cast<std::uint8_t>(sid),
               static_cast<std::uint8_t>(body.size() >> 8), static_cast<std::uint8_t>(body.size() & 0xff)};
    f.insert(f.end(), body.begin(), body.end());
    return f;
}

inline Bytes str_bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

}  // namespace lscgate::test
