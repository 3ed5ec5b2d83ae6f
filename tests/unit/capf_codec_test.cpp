// CAPF frame and element codec (module/capf/PROTOCOL.md §3, §3.3, §4.2, §9, §10) and the
// FrameChannel that reads whole messages over a ByteStream (§2.3 read rule).

#include "capf/codec.h"
#include "capf/frame_channel.h"
#include "capf/memory_stream.h"
#include "capf/protocol.h"
#include "pki/keys.h"

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace lscgate::capf {
namespace {

using namespace std::chrono_literals;

// "55 01 00 ..." → bytes; whitespace is ignored.
Bytes hex(const std::string& text) {
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

Bytes encode_ok(const Message& m) {
    auto r = encode(m);
    if (!r) throw std::runtime_error("encode failed: " + r.message());
    return *r;
}

Message decode_ok(const Bytes& frame) {
    auto r = decode_frame(frame);
    if (!r) throw std::runtime_error("decode failed: " + r.message());
    return *r;
}

// A frame with the given command/session and a raw body, length taken from the body.
Bytes frame_with_body(std::uint8_t command, std::uint32_t sid, const Bytes& body) {
    Bytes f = {kProtocolId, command, static_cast<std::uint8_t>(sid >> 24), static_cast<std::uint8_t>(sid >> 16),
               static_cast<std::uint8_t>(sid >> 8), static_cast<std::uint8_t>(sid),
               static_cast<std::uint8_t>(body.size() >> 8), static_cast<std::uint8_t>(body.size() & 0xff)};
    f.insert(f.end(), body.begin(), body.end());
    return f;
}

Bytes str_bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

// ---------------------------------------------------------------------------
// §4.1 commands

TEST(CapfCodecCommands, EnumValuesMatchTheSpecTable) {
    const std::vector<std::pair<Command, int>> table = {
        {Command::AuthRequest, 1},
        {Command::AuthResponse, 2},
        {Command::KeyGenerateRequest, 3},
        {Command::KeyGenerateResponse, 4},
        {Command::EncryptResponse, 5},
        {Command::EncryptRequest, 6},
        {Command::DecryptRequest, 7},
        {Command::DecryptResponse, 8},
        {Command::StoreCertificateRequest, 9},
        {Command::StoreCertificateResponse, 10},
        {Command::FetchCertificateRequest, 11},
        {Command::FetchCertificateResponse, 12},
        {Command::DeleteCertificateRequest, 13},
        {Command::DeleteCertificateResponse, 14},
        {Command::EndSession, 15},
        {Command::RetryLater, 16},
        {Command::RequestInProgress, 17},
        {Command::StatusRequest, 18},
        {Command::StatusResponse, 19},
        {Command::AbortRequest, 20},
        {Command::AbortResponse, 21},
        {Command::SignCertificateRequest, 22},
        {Command::SignCertificateResponse, 23},
    };
    for (const auto& [command, code] : table) EXPECT_EQ(static_cast<int>(command), code);
    EXPECT_EQ(command_name(1), "AUTH_REQUEST");
    EXPECT_EQ(command_name(15), "END_SESSION");
    EXPECT_EQ(command_name(17), "REQUEST_IN_PROGRESS");
    EXPECT_EQ(command_name(23), "SIGN_CERTIFICATE_RESPONSE");
}

TEST(CapfCodecCommands, EveryCommandCodeRoundTripsWithTheRightHeader) {
    for (int code = 1; code <= 23; ++code) {
        SCOPED_TRACE("command " + std::to_string(code));
        const auto c = static_cast<std::uint8_t>(code);
        Message m(c, 0xA1B2C3D4u);
        m.add_u8(Tag::Reason, c);
        const Bytes wire = encode_ok(m);
        ASSERT_EQ(wire.size(), 12u);
        EXPECT_EQ(wire, (Bytes{0x55, c, 0xA1, 0xB2, 0xC3, 0xD4, 0x00, 0x04, 0x01, 0x00, 0x01, c}));

        const Message back = decode_ok(wire);
        EXPECT_EQ(back.command(), c);
        EXPECT_TRUE(back.is(static_cast<Command>(c)));
        EXPECT_EQ(back.session_id(), 0xA1B2C3D4u);
        ASSERT_EQ(back.elements().size(), 1u);
        auto reason = back.u8(Tag::Reason);
        ASSERT_TRUE(reason);
        ASSERT_TRUE(reason->has_value());
        EXPECT_EQ(**reason, c);
        EXPECT_EQ(encode_ok(back), wire);

        // The same command with an empty body is just the 8-byte header.
        const Bytes empty = encode_ok(Message(static_cast<Command>(c), 7));
        EXPECT_EQ(empty, (Bytes{0x55, c, 0, 0, 0, 7, 0, 0}));
        const Message e = decode_ok(empty);
        EXPECT_EQ(e.command(), c);
        EXPECT_EQ(e.session_id(), 7u);
        EXPECT_TRUE(e.elements().empty());
    }
}

TEST(CapfCodecCommands, SessionIdIsBigEndianOnTheWire) {
    const Bytes wire = encode_ok(Message(Command::EndSession, 0x01020304u));
    EXPECT_EQ(wire, hex("55 0f 01 02 03 04 00 00"));
    EXPECT_EQ(decode_ok(hex("55 0f ff ff ff fe 00 00")).session_id(), 0xFFFFFFFEu);
}

// ---------------------------------------------------------------------------
// §4.2 element tags

TEST(CapfCodecElements, TagValuesMatchTheSpecTable) {
    EXPECT_EQ(static_cast<int>(Tag::Reason), 1);
    EXPECT_EQ(static_cast<int>(Tag::ReasonInfo), 2);
    EXPECT_EQ(static_cast<int>(Tag::CertificateType), 3);
    EXPECT_EQ(static_cast<int>(Tag::Certificate), 4);
    EXPECT_EQ(static_cast<int>(Tag::CertificateId), 5);
    EXPECT_EQ(static_cast<int>(Tag::SignedData), 6);
    EXPECT_EQ(static_cast<int>(Tag::Version), 7);
    EXPECT_EQ(static_cast<int>(Tag::AuthType), 8);
    EXPECT_EQ(static_cast<int>(Tag::PublicKey), 9);
    EXPECT_EQ(static_cast<int>(Tag::KeySize), 10);
    EXPECT_EQ(static_cast<int>(Tag::Password), 11);
    EXPECT_EQ(static_cast<int>(Tag::RetryDelay), 12);
    EXPECT_EQ(static_cast<int>(Tag::DeviceName), 13);
    EXPECT_EQ(static_cast<int>(Tag::SudiData), 16);
    EXPECT_EQ(static_cast<int>(Tag::KeyType), 17);
    EXPECT_EQ(static_cast<int>(Tag::Curve), 18);
    EXPECT_EQ(static_cast<int>(Tag::DigestType), 19);
    EXPECT_EQ(static_cast<int>(Tag::Sha2SignedData), 20);
}

TEST(CapfCodecElements, U8TagsEncodeAsOneByteAndDecode) {
    for (Tag t : {Tag::Reason, Tag::CertificateType, Tag::Version, Tag::AuthType, Tag::KeyType, Tag::Curve,
                  Tag::DigestType}) {
        const auto code = static_cast<std::uint8_t>(t);
        SCOPED_TRACE("tag " + std::to_string(code));
        Message m(Command::AuthResponse, 1);
        m.add_u8(t, 0xA5);
        const Bytes wire = encode_ok(m);
        EXPECT_EQ(wire, (Bytes{0x55, 0x02, 0, 0, 0, 1, 0x00, 0x04, code, 0x00, 0x01, 0xA5}));
        const Message back = decode_ok(wire);
        auto v = back.u8(t);
        ASSERT_TRUE(v);
        ASSERT_TRUE(v->has_value());
        EXPECT_EQ(**v, 0xA5);
        EXPECT_TRUE(back.has(t));
    }
}

TEST(CapfCodecElements, U16KeySizeIsBigEndian) {
    Message m(Command::KeyGenerateRequest, 1);
    m.add_u16(Tag::KeySize, 4096);
    const Bytes wire = encode_ok(m);
    EXPECT_EQ(wire, hex("55 03 00 00 00 01 00 05  0a 00 02 10 00"));
    auto v = decode_ok(wire).u16(Tag::KeySize);
    ASSERT_TRUE(v);
    ASSERT_TRUE(v->has_value());
    EXPECT_EQ(**v, 4096);

    auto big = decode_ok(hex("55 03 00 00 00 01 00 05  0a 00 02 ab cd")).u16(Tag::KeySize);
    ASSERT_TRUE(big);
    EXPECT_EQ(**big, 0xABCD);
}

TEST(CapfCodecElements, StringTagsCarryATerminatingNul) {
    for (Tag t : {Tag::ReasonInfo, Tag::Password, Tag::DeviceName}) {
        const auto code = static_cast<std::uint8_t>(t);
        SCOPED_TRACE("tag " + std::to_string(code));
        Message m(Command::AuthResponse, 1);
        m.add_string(t, "SEP0A");
        const Bytes wire = encode_ok(m);
        EXPECT_EQ(wire, (Bytes{0x55, 0x02, 0, 0, 0, 1, 0x00, 0x09, code, 0x00, 0x06, 'S', 'E', 'P', '0', 'A', 0x00}));
        auto s = decode_ok(wire).text(t);
        ASSERT_TRUE(s) << s.message();
        ASSERT_TRUE(s->has_value());
        EXPECT_EQ(**s, "SEP0A");
    }
}

TEST(CapfCodecElements, EmptyStringIsTheSingleNulByte) {
    Message m(Command::AuthResponse, 1);
    m.add_string(Tag::Password, "");
    const Bytes wire = encode_ok(m);
    EXPECT_EQ(wire, hex("55 02 00 00 00 01 00 04  0b 00 01 00"));
    auto s = decode_ok(wire).text(Tag::Password);
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->has_value());
    EXPECT_EQ(**s, "");
}

TEST(CapfCodecElements, ReasonInfoIsReadWhole) {
    // §4.2: the reference keeps only the first character; the whole string must be read.
    Bytes body = {0x02, 0x00, 0x0c};
    const Bytes text = str_bytes("no entropy!");
    body.insert(body.end(), text.begin(), text.end());
    body.push_back(0);
    auto info = decode_ok(frame_with_body(4, 1, body)).text(Tag::ReasonInfo);
    ASSERT_TRUE(info);
    ASSERT_TRUE(info->has_value());
    EXPECT_EQ(**info, "no entropy!");
}

TEST(CapfCodecElements, OpaqueByteTagsRoundTrip) {
    const Bytes payload = {0x00, 0x01, 0xFF, 0x30, 0x82};
    for (Tag t : {Tag::SignedData, Tag::PublicKey, Tag::CertificateId, Tag::RetryDelay}) {
        const auto code = static_cast<std::uint8_t>(t);
        SCOPED_TRACE("tag " + std::to_string(code));
        Message m(Command::AuthResponse, 1);
        m.add_bytes(t, payload);
        const Bytes wire = encode_ok(m);
        Bytes expected = {0x55, 0x02, 0, 0, 0, 1, 0x00, 0x08, code, 0x00, 0x05};
        expected.insert(expected.end(), payload.begin(), payload.end());
        EXPECT_EQ(wire, expected);
        const Message back = decode_ok(wire);
        ASSERT_NE(back.find(t), nullptr);
        EXPECT_EQ(*back.find(t), payload);
    }
}

TEST(CapfCodecElements, AbsentElementsReadAsNullopt) {
    const Message m = decode_ok(hex("55 02 00 00 00 01 00 00"));
    EXPECT_FALSE(m.has(Tag::Version));
    EXPECT_EQ(m.find(Tag::Version), nullptr);
    auto v = m.u8(Tag::Version);
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->has_value());
    auto k = m.u16(Tag::KeySize);
    ASSERT_TRUE(k);
    EXPECT_FALSE(k->has_value());
    auto s = m.text(Tag::DeviceName);
    ASSERT_TRUE(s);
    EXPECT_FALSE(s->has_value());
}

TEST(CapfCodecElements, AllTagsTogetherRoundTripInOrder) {
    Message m(Command::AuthResponse, 0x11223344u);
    m.add_u8(Tag::Reason, 1)
        .add_string(Tag::ReasonInfo, "ok")
        .add_u8(Tag::CertificateType, cert_type::kMic)
        .add_bytes(Tag::Certificate, wrap_certificate(Bytes{0x30, 0x03, 0x02, 0x01, 0x05}, cert_type::kLsc))
        .add_bytes(Tag::SignedData, Bytes(20, 0x11))
        .add_u8(Tag::Version, 3)
        .add_u8(Tag::AuthType, auth_type::kNone)
        .add_bytes(Tag::PublicKey, Bytes{0x30, 0x00})
        .add_u16(Tag::KeySize, 2048)
        .add_string(Tag::Password, "123456")
        .add_string(Tag::DeviceName, "SEP001122334455")
        .add_bytes(Tag::SudiData, encode_sudi({Bytes{0x30}, {hash_code::kSha1, Bytes{1}}, {hash_code::kSha512, Bytes{2}}}))
        .add_u8(Tag::KeyType, key_type::kEc)
        .add_u8(Tag::Curve, 2)
        .add_u8(Tag::DigestType, hash_code::kSha512)
        .add_bytes(Tag::Sha2SignedData, encode_hashed_signature({hash_code::kSha512, Bytes(64, 0x22)}));
    const Bytes wire = encode_ok(m);
    const Message back = decode_ok(wire);
    ASSERT_EQ(back.elements().size(), m.elements().size());
    for (std::size_t i = 0; i < m.elements().size(); ++i) {
        EXPECT_EQ(back.elements()[i].tag, m.elements()[i].tag) << i;
        EXPECT_EQ(back.elements()[i].value, m.elements()[i].value) << i;
    }
    EXPECT_EQ(encode_ok(back), wire);
    EXPECT_EQ(**back.u16(Tag::KeySize), 2048);
    EXPECT_EQ(**back.text(Tag::DeviceName), "SEP001122334455");
    EXPECT_EQ(**back.text(Tag::Password), "123456");
    EXPECT_EQ(**back.u8(Tag::Curve), 2);
    // Header length counts only the body.
    EXPECT_EQ(static_cast<std::size_t>((wire[6] << 8) | wire[7]), wire.size() - kHeaderSize);
}

// §5.1 CERTIFICATE wrapper
TEST(CapfCodecElements, CertificateWrapperLayout) {
    const Bytes der = {0x30, 0x82, 0x00, 0x02, 0xAA, 0xBB};
    const Bytes wrapped = wrap_certificate(der, cert_type::kLsc);
    EXPECT_EQ(wrapped, hex("01 00 08 00 01 30 82 00 02 aa bb"));  // LL = N + 2 = 8
    auto w = unwrap_certificate(wrapped);
    ASSERT_TRUE(w) << w.message();
    EXPECT_EQ(w->type, cert_type::kLsc);
    EXPECT_EQ(w->der, der);

    const Bytes mic = wrap_certificate(der, cert_type::kMic);
    EXPECT_EQ(mic[4], 0x02);
    auto m = unwrap_certificate(mic);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->type, cert_type::kMic);
    EXPECT_EQ(m->der, der);

    // Inside a message: outer length N + 5.
    Message msg(Command::StoreCertificateRequest, 1);
    msg.add_bytes(Tag::Certificate, wrapped);
    const Bytes wire = encode_ok(msg);
    EXPECT_EQ(wire, hex("55 09 00 00 00 01 00 0e  04 00 0b  01 00 08 00 01 30 82 00 02 aa bb"));
    auto back = unwrap_certificate(*decode_ok(wire).find(Tag::Certificate));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->der, der);
}

TEST(CapfCodecElements, CertificateWrapperWithWrongInnerLengthIsRejected) {
    EXPECT_FALSE(unwrap_certificate(hex("01 00 07 00 01 30 82 00 02 aa bb")));  // LL one short
    EXPECT_FALSE(unwrap_certificate(hex("01 00 09 00 01 30 82 00 02 aa bb")));  // LL one long
    EXPECT_FALSE(unwrap_certificate(hex("01 ff ff 00 01 30 82 00 02 aa bb")));  // LL far past the value
    EXPECT_FALSE(unwrap_certificate(hex("01 00 00 00 01 30")));                 // LL zero
}

TEST(CapfCodecElements, CertificateWrapperTooShortIsRejected) {
    EXPECT_FALSE(unwrap_certificate(Bytes{}));
    EXPECT_FALSE(unwrap_certificate(hex("01")));
    EXPECT_FALSE(unwrap_certificate(hex("01 00 02")));
    EXPECT_FALSE(unwrap_certificate(hex("01 00 02 00 01")));  // header only, no DER at all
}

TEST(CapfCodecElements, CertificateWrapperMustStartWith01) {
    EXPECT_FALSE(unwrap_certificate(hex("02 00 03 00 01 30")));
    EXPECT_FALSE(unwrap_certificate(hex("00 00 03 00 01 30")));
    EXPECT_TRUE(unwrap_certificate(hex("01 00 03 00 01 30")));
}

// §5.2 SHA2_SIGNED_DATA
TEST(CapfCodecElements, Sha2SignedDataLayoutAndRoundTrip) {
    const Bytes sig = {0xDE, 0xAD, 0xBE, 0xEF};
    const Bytes v = encode_hashed_signature({hash_code::kSha512, sig});
    EXPECT_EQ(v, hex("03 00 04 de ad be ef"));
    auto d = decode_hashed_signature(v);
    ASSERT_TRUE(d) << d.message();
    EXPECT_EQ(d->hash, hash_code::kSha512);
    EXPECT_EQ(d->signature, sig);

    // A 256-byte (RSA-2048) signature needs the full u16 length.
    const Bytes big(256, 0x5A);
    const Bytes vb = encode_hashed_signature({hash_code::kSha512, big});
    ASSERT_EQ(vb.size(), 259u);
    EXPECT_EQ(vb[1], 0x01);
    EXPECT_EQ(vb[2], 0x00);
    auto db = decode_hashed_signature(vb);
    ASSERT_TRUE(db);
    EXPECT_EQ(db->signature, big);

    // Empty signature: legal framing, zero bytes.
    auto de = decode_hashed_signature(hex("03 00 00"));
    ASSERT_TRUE(de);
    EXPECT_TRUE(de->signature.empty());
}

TEST(CapfCodecElements, Sha2SignedDataTruncatedOrWithTrailingBytesIsRejected) {
    EXPECT_FALSE(decode_hashed_signature(Bytes{}));
    EXPECT_FALSE(decode_hashed_signature(hex("03")));
    EXPECT_FALSE(decode_hashed_signature(hex("03 00")));                 // block header truncated
    EXPECT_FALSE(decode_hashed_signature(hex("03 00 05 de ad be ef")));  // length runs past the value
    EXPECT_FALSE(decode_hashed_signature(hex("03 00 03 de ad be ef")));  // one trailing byte
    EXPECT_FALSE(decode_hashed_signature(hex("03 00 04 de ad be ef 03 00 00")));  // a second block
}

// §5.3 SUDI_DATA
TEST(CapfCodecElements, SudiDataLayoutAndRoundTrip) {
    const SudiData s{Bytes{0x30, 0x01}, {hash_code::kSha1, Bytes{0xAA}}, {hash_code::kSha512, Bytes{0xBB, 0xCC}}};
    const Bytes v = encode_sudi(s);
    EXPECT_EQ(v, hex("00 00 02 30 01  01 00 01 aa  03 00 02 bb cc"));
    auto d = decode_sudi(v);
    ASSERT_TRUE(d) << d.message();
    EXPECT_EQ(d->certificate, s.certificate);
    EXPECT_EQ(d->sha1.hash, hash_code::kSha1);
    EXPECT_EQ(d->sha1.signature, s.sha1.signature);
    EXPECT_EQ(d->sha512.hash, hash_code::kSha512);
    EXPECT_EQ(d->sha512.signature, s.sha512.signature);
}

TEST(CapfCodecElements, SudiDataTruncatedOrWithTrailingBytesIsRejected) {
    EXPECT_FALSE(decode_sudi(Bytes{}));
    EXPECT_FALSE(decode_sudi(hex("00 00 02 30")));                          // certificate block runs past
    EXPECT_FALSE(decode_sudi(hex("00 00 02 30 01")));                       // SHA-1 block missing
    EXPECT_FALSE(decode_sudi(hex("00 00 02 30 01  01 00")));                // SHA-1 block header truncated
    EXPECT_FALSE(decode_sudi(hex("00 00 02 30 01  01 00 01 aa")));          // SHA-512 block missing
    EXPECT_FALSE(decode_sudi(hex("00 00 02 30 01  01 00 01 aa  03 00 03 bb cc")));  // SHA-512 runs past
    EXPECT_FALSE(decode_sudi(hex("00 00 02 30 01  01 00 01 aa  03 00 02 bb cc  00")));  // trailing byte
    EXPECT_TRUE(decode_sudi(hex("00 00 02 30 01  01 00 01 aa  03 00 02 bb cc")));
}

// ---------------------------------------------------------------------------
// §9 exact byte examples (session id 1)

TEST(CapfCodecSpecExamples, AuthRequest) {
    const Bytes expected = hex("55 01 00 00 00 01 00 08   07 00 01 03   08 00 01 00");
    Message m(Command::AuthRequest, 1);
    m.add_u8(Tag::Version, kServerVersion).add_u8(Tag::AuthType, auth_type::kNone);
    EXPECT_EQ(encode_ok(m), expected);
    EXPECT_EQ(expected.size(), 16u);

    const Message d = decode_ok(expected);
    EXPECT_TRUE(d.is(Command::AuthRequest));
    EXPECT_EQ(d.session_id(), 1u);
    EXPECT_EQ(**d.u8(Tag::Version), 3);
    EXPECT_EQ(**d.u8(Tag::AuthType), 0);
}

const char* const kAuthResponseNull =
    "55 02 00 00 00 01 00 1f"
    "01 00 01 01"
    "07 00 01 03"
    "0b 00 01 00"
    "0d 00 10 53 45 50 35 38 39 37 31 45 43 43 39 37 43 31 00";

TEST(CapfCodecSpecExamples, AuthResponseNullString) {
    const Bytes expected = hex(kAuthResponseNull);
    EXPECT_EQ(expected.size(), 39u);
    Message m(Command::AuthResponse, 1);
    m.add_u8(Tag::Reason, reason::kUpdateCertificate)
        .add_u8(Tag::Version, 3)
        .add_string(Tag::Password, "")
        .add_string(Tag::DeviceName, "SEP58971ECC97C1");
    const Bytes wire = encode_ok(m);
    EXPECT_EQ(wire, expected);
    EXPECT_EQ(wire.size(), 39u);

    const Message d = decode_ok(expected);
    EXPECT_TRUE(d.is(Command::AuthResponse));
    EXPECT_EQ(d.session_id(), 1u);
    EXPECT_EQ(**d.u8(Tag::Reason), 1);
    EXPECT_EQ(**d.u8(Tag::Version), 3);
    EXPECT_EQ(**d.text(Tag::Password), "");
    EXPECT_EQ(**d.text(Tag::DeviceName), "SEP58971ECC97C1");
}

TEST(CapfCodecSpecExamples, AuthResponseWithAuthenticationString) {
    const Bytes expected = hex(
        "55 02 00 00 00 01 00 25"
        "01 00 01 01"
        "07 00 01 03"
        "0b 00 07 31 32 33 34 35 36 00"
        "0d 00 10 53 45 50 35 38 39 37 31 45 43 43 39 37 43 31 00");
    Message m(Command::AuthResponse, 1);
    m.add_u8(Tag::Reason, 1).add_u8(Tag::Version, 3).add_string(Tag::Password, "123456").add_string(
        Tag::DeviceName, "SEP58971ECC97C1");
    const Bytes wire = encode_ok(m);
    EXPECT_EQ(wire, expected);
    EXPECT_EQ(wire[6], 0x00);
    EXPECT_EQ(wire[7], 0x25);
    EXPECT_EQ(**decode_ok(expected).text(Tag::Password), "123456");
}

TEST(CapfCodecSpecExamples, KeyGenerateRequestRsa2048) {
    const Bytes expected = hex("55 03 00 00 00 01 00 09  0a 00 02 08 00  11 00 01 00");
    Message m(Command::KeyGenerateRequest, 1);
    m.add_u16(Tag::KeySize, 2048).add_u8(Tag::KeyType, key_type::kRsa);
    EXPECT_EQ(encode_ok(m), expected);
    const Message d = decode_ok(expected);
    EXPECT_TRUE(d.is(Command::KeyGenerateRequest));
    EXPECT_EQ(**d.u16(Tag::KeySize), 2048);
    EXPECT_EQ(**d.u8(Tag::KeyType), key_type::kRsa);
    EXPECT_FALSE(d.has(Tag::Curve));
}

TEST(CapfCodecSpecExamples, KeyGenerateRequestEcP256) {
    const Bytes expected = hex("55 03 00 00 00 01 00 08  11 00 01 01  12 00 01 00");
    Message m(Command::KeyGenerateRequest, 1);
    m.add_u8(Tag::KeyType, key_type::kEc).add_u8(Tag::Curve, 0);
    EXPECT_EQ(encode_ok(m), expected);
    const Message d = decode_ok(expected);
    EXPECT_EQ(**d.u8(Tag::KeyType), key_type::kEc);
    EXPECT_EQ(**d.u8(Tag::Curve), 0);
    EXPECT_FALSE(d.has(Tag::KeySize));
}

TEST(CapfCodecSpecExamples, RequestInProgress) {
    const Bytes expected = hex("55 11 00 00 00 01 00 00");
    EXPECT_EQ(encode_ok(Message(Command::RequestInProgress, 1)), expected);
    const Message d = decode_ok(expected);
    EXPECT_TRUE(d.is(Command::RequestInProgress));
    EXPECT_TRUE(d.elements().empty());
}

TEST(CapfCodecSpecExamples, KeyGenerateResponseEcP256) {
    const Bytes expected = hex(
        "55 04 00 00 00 01 00 5e  09 00 5b"
        "30 59 30 13 06 07 2a 86 48 ce 3d 02 01 06 08 2a 86 48 ce 3d 03 01 07 03 42 00 04"
        "6b 17 d1 f2 e1 2c 42 47 f8 bc e6 e5 63 a4 40 f2 77 03 7d 81 2d eb 33 a0 f4 a1 39 45 d8 98 c2 96"
        "4f e3 42 e2 fe 1a 7f 9b 8e e7 eb 4a 7c 0f 9e 16 2b ce 33 57 6b 31 5e ce cb b6 40 68 37 bf 51 f5");
    ASSERT_EQ(expected.size(), 102u);
    const Message d = decode_ok(expected);
    EXPECT_TRUE(d.is(Command::KeyGenerateResponse));
    const Bytes* spki = d.find(Tag::PublicKey);
    ASSERT_NE(spki, nullptr);
    ASSERT_EQ(spki->size(), 0x5bu);
    auto key = parse_public_key_der(*spki);
    ASSERT_TRUE(key) << key.message();
    auto spec = describe_key(key->get());
    ASSERT_TRUE(spec);
    EXPECT_EQ(spec->type, KeyType::Ec);
    EXPECT_EQ(spec->curve, EcCurve::P256);

    Message m(Command::KeyGenerateResponse, 1);
    m.add_bytes(Tag::PublicKey, *spki);
    EXPECT_EQ(encode_ok(m), expected);
}

TEST(CapfCodecSpecExamples, StoreCertificateRequestHeaderArithmeticForN868) {
    // A DER SEQUENCE of 868 bytes in total: 30 82 03 60 + 864 content bytes.
    Bytes der = {0x30, 0x82, 0x03, 0x60};
    der.resize(868, 0x00);
    Message m(Command::StoreCertificateRequest, 1);
    m.add_u8(Tag::CertificateType, cert_type::kLsc).add_bytes(Tag::Certificate, wrap_certificate(der, cert_type::kLsc));
    const Bytes wire = encode_ok(m);
    ASSERT_EQ(wire.size(), 868u + 20u);
    const Bytes prefix = hex("55 09 00 00 00 01 03 70  03 00 01 01  04 03 69 01 03 66 00 01 30 82 03 60");
    ASSERT_GE(wire.size(), prefix.size());
    EXPECT_EQ(Bytes(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(prefix.size())), prefix);
    EXPECT_EQ(Bytes(wire.begin() + 20, wire.end()), der);

    const Message d = decode_ok(wire);
    EXPECT_EQ(**d.u8(Tag::CertificateType), cert_type::kLsc);
    auto w = unwrap_certificate(*d.find(Tag::Certificate));
    ASSERT_TRUE(w) << w.message();
    EXPECT_EQ(w->type, cert_type::kLsc);
    EXPECT_EQ(w->der, der);
}

TEST(CapfCodecSpecExamples, StoreCertificateRequestTotalIsNPlus20ForOtherSizes) {
    for (std::size_t n : {1u, 100u, 255u, 256u, 1500u}) {
        SCOPED_TRACE(n);
        const Bytes der(n, 0x30);
        Message m(Command::StoreCertificateRequest, 1);
        m.add_u8(Tag::CertificateType, 1).add_bytes(Tag::Certificate, wrap_certificate(der, 1));
        const Bytes wire = encode_ok(m);
        ASSERT_EQ(wire.size(), n + 20);
        EXPECT_EQ(static_cast<std::size_t>((wire[6] << 8) | wire[7]), n + 12);
        EXPECT_EQ(static_cast<std::size_t>((wire[13] << 8) | wire[14]), n + 5);
        EXPECT_EQ(static_cast<std::size_t>((wire[16] << 8) | wire[17]), n + 2);
    }
}

TEST(CapfCodecSpecExamples, StoreCertificateResponse) {
    const Bytes expected = hex("55 0a 00 00 00 01 00 04  01 00 01 01");
    Message m(Command::StoreCertificateResponse, 1);
    m.add_u8(Tag::Reason, reason::kUpdateCertificate);
    EXPECT_EQ(encode_ok(m), expected);
    const Message d = decode_ok(expected);
    EXPECT_TRUE(d.is(Command::StoreCertificateResponse));
    EXPECT_EQ(**d.u8(Tag::Reason), 1);
}

TEST(CapfCodecSpecExamples, EndSessionVariants) {
    for (std::uint8_t r : {reason::kUpdateCertificate, reason::kNoAction, reason::kInvalidElement, reason::kUnknownDevice}) {
        SCOPED_TRACE(static_cast<int>(r));
        const Bytes expected = {0x55, 0x0f, 0x00, 0x00, 0x00, 0x01, 0x00, 0x04, 0x01, 0x00, 0x01, r};
        Message m(Command::EndSession, 1);
        m.add_u8(Tag::Reason, r);
        EXPECT_EQ(encode_ok(m), expected);
        const Message d = decode_ok(expected);
        EXPECT_TRUE(d.is(Command::EndSession));
        EXPECT_EQ(**d.u8(Tag::Reason), r);
    }
    EXPECT_EQ(reason::kNoAction, 0);
    EXPECT_EQ(reason::kUpdateCertificate, 1);
    EXPECT_EQ(reason::kInvalidElement, 7);
    EXPECT_EQ(reason::kUnknownDevice, 9);
}

TEST(CapfCodecSpecExamples, FetchAndDeleteRequests) {
    EXPECT_EQ(encode_ok(Message(Command::FetchCertificateRequest, 1)), hex("55 0b 00 00 00 01 00 00"));
    EXPECT_EQ(encode_ok(Message(Command::DeleteCertificateRequest, 1)), hex("55 0d 00 00 00 01 00 00"));
    EXPECT_TRUE(decode_ok(hex("55 0b 00 00 00 01 00 00")).is(Command::FetchCertificateRequest));
    EXPECT_TRUE(decode_ok(hex("55 0d 00 00 00 01 00 00")).is(Command::DeleteCertificateRequest));
}

// ---------------------------------------------------------------------------
// §3.3 repeats and unknown tags

TEST(CapfCodecTlv, RepeatedTagKeepsTheLast) {
    const Message d = decode_ok(hex("55 02 00 00 00 01 00 0c  07 00 01 02  07 00 01 03  07 00 01 01"));
    EXPECT_EQ(**d.u8(Tag::Version), 1);

    const Message s = decode_ok(frame_with_body(2, 1, hex("0d 00 04 41 41 41 00  0d 00 03 42 42 00")));
    EXPECT_EQ(**s.text(Tag::DeviceName), "BB");  // not merged, not the first

    // The last one decides validity too: a bad earlier copy does not matter, a bad last one does.
    EXPECT_EQ(**decode_ok(hex("55 02 00 00 00 01 00 09  07 00 02 03 03  07 00 01 02")).u8(Tag::Version), 2);
    EXPECT_FALSE(decode_ok(hex("55 02 00 00 00 01 00 09  07 00 01 02  07 00 02 03 03")).u8(Tag::Version));
}

TEST(CapfCodecTlv, UnknownTagsAreKeptAndDoNotDisturbKnownOnes) {
    const Bytes wire = hex(
        "55 02 00 00 00 01 00 1d"
        "0e 00 02 aa bb"   // 14: unassigned
        "07 00 01 03"
        "0f 00 00"         // 15: unassigned, empty
        "ff 00 03 01 02 03"
        "63 00 01 00"      // 99
        "0d 00 04 53 45 50 00");
    auto d = decode_frame(wire);
    ASSERT_TRUE(d) << d.message();
    ASSERT_EQ(d->elements().size(), 6u);
    EXPECT_EQ(d->elements()[0].tag, 14);
    EXPECT_EQ(d->elements()[0].value, hex("aa bb"));
    EXPECT_EQ(d->elements()[2].tag, 15);
    EXPECT_TRUE(d->elements()[2].value.empty());
    EXPECT_EQ(d->elements()[3].tag, 0xff);
    EXPECT_EQ(d->elements()[3].value, hex("01 02 03"));
    EXPECT_EQ(**d->u8(Tag::Version), 3);
    EXPECT_EQ(**d->text(Tag::DeviceName), "SEP");
    EXPECT_EQ(encode_ok(*d), wire);
    EXPECT_EQ(tag_name(0xff), "tag 255");
}

TEST(CapfCodecTlv, ZeroLengthElementsAndExactFitAreAccepted) {
    auto d = decode_frame(hex("55 04 00 00 00 01 00 06  09 00 00  06 00 00"));
    ASSERT_TRUE(d) << d.message();
    ASSERT_EQ(d->elements().size(), 2u);
    ASSERT_NE(d->find(Tag::PublicKey), nullptr);
    EXPECT_TRUE(d->find(Tag::PublicKey)->empty());
}

// ---------------------------------------------------------------------------
// Malformed input (§3, §3.3, §10)

TEST(CapfCodecMalformed, BadProtocolId) {
    for (std::uint8_t id : {0x00, 0x54, 0x56, 0xAA, 0xFF}) {
        SCOPED_TRACE(static_cast<int>(id));
        Bytes f = hex("55 0f 00 00 00 01 00 04  01 00 01 01");
        f[0] = id;
        EXPECT_FALSE(decode_frame(f));
        EXPECT_FALSE(decode_header(ByteView(f.data(), kHeaderSize)));
    }
    auto ok = decode_header(hex("55 0f 00 00 00 01 00 04"));
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->command, 15);
    EXPECT_EQ(ok->session_id, 1u);
    EXPECT_EQ(ok->length, 4);
}

TEST(CapfCodecMalformed, HeaderShorterThanEightBytes) {
    const Bytes full = hex("55 0f 00 00 00 01 00 00");
    for (std::size_t n = 0; n < kHeaderSize; ++n) {
        SCOPED_TRACE(n);
        const Bytes part(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_FALSE(decode_frame(part));
        EXPECT_FALSE(decode_header(part));
    }
    EXPECT_TRUE(decode_frame(full));
    EXPECT_FALSE(decode_header(hex("55 0f 00 00 00 01 00 00 00")));  // header is exactly 8
}

TEST(CapfCodecMalformed, BodyLengthMismatch) {
    EXPECT_FALSE(decode_frame(hex("55 0f 00 00 00 01 00 04  01 00 01")));        // one short
    EXPECT_FALSE(decode_frame(hex("55 0f 00 00 00 01 00 04  01 00 01 01 00")));  // one trailing
    EXPECT_FALSE(decode_frame(hex("55 0f 00 00 00 01 00 00  01 00 01 01")));     // says empty
    EXPECT_FALSE(decode_frame(hex("55 0f 00 00 00 01 ff ff  01 00 01 01")));
    auto h = decode_header(hex("55 0f 00 00 00 01 00 04"));
    ASSERT_TRUE(h);
    EXPECT_FALSE(decode_body(*h, hex("01 00 01")));
    EXPECT_TRUE(decode_body(*h, hex("01 00 01 01")));
}

TEST(CapfCodecMalformed, ElementHeaderTruncated) {
    // pos + 3 > len
    EXPECT_FALSE(decode_frame(hex("55 02 00 00 00 01 00 01  07")));
    EXPECT_FALSE(decode_frame(hex("55 02 00 00 00 01 00 02  07 00")));
    EXPECT_FALSE(decode_frame(hex("55 02 00 00 00 01 00 06  07 00 01 03  0d 00")));
    EXPECT_FALSE(decode_frame(hex("55 02 00 00 00 01 00 05  07 00 01 03  0d")));
}

TEST(CapfCodecMalformed, ElementValueRunsPastTheBody) {
    // pos + 3 + L > len
    EXPECT_FALSE(decode_frame(hex("55 02 00 00 00 01 00 04  07 00 02 03")));
    EXPECT_FALSE(decode_frame(hex("55 02 00 00 00 01 00 03  07 00 01")));
    EXPECT_FALSE(decode_frame(hex("55 02 00 00 00 01 00 08  07 00 01 03  0d 00 10 53")));
    EXPECT_FALSE(decode_frame(hex("55 02 00 00 00 01 00 05  09 ff ff 30 00")));
}

TEST(CapfCodecMalformed, FixedSizeElementsWithWrongLength) {
    const Message u8_empty = decode_ok(hex("55 02 00 00 00 01 00 03  07 00 00"));
    EXPECT_FALSE(u8_empty.u8(Tag::Version));
    const Message u8_two = decode_ok(hex("55 02 00 00 00 01 00 05  07 00 02 00 03"));
    EXPECT_FALSE(u8_two.u8(Tag::Version));
    const Message reason_two = decode_ok(hex("55 0a 00 00 00 01 00 05  01 00 02 01 01"));
    EXPECT_FALSE(reason_two.u8(Tag::Reason));

    const Message u16_one = decode_ok(hex("55 03 00 00 00 01 00 04  0a 00 01 08"));
    EXPECT_FALSE(u16_one.u16(Tag::KeySize));
    const Message u16_three = decode_ok(hex("55 03 00 00 00 01 00 06  0a 00 03 00 08 00"));
    EXPECT_FALSE(u16_three.u16(Tag::KeySize));
    const Message u16_empty = decode_ok(hex("55 03 00 00 00 01 00 03  0a 00 00"));
    EXPECT_FALSE(u16_empty.u16(Tag::KeySize));
}

TEST(CapfCodecMalformed, StringWithEmbeddedNulIsRejected) {
    const Message a = decode_ok(frame_with_body(2, 1, hex("0d 00 06 53 45 50 00 58 00")));  // "SEP\0X\0"
    EXPECT_FALSE(a.text(Tag::DeviceName));
    const Message b = decode_ok(frame_with_body(2, 1, hex("0d 00 05 53 45 50 00 58")));  // "SEP\0X"
    EXPECT_FALSE(b.text(Tag::DeviceName));
    const Message c = decode_ok(frame_with_body(2, 1, hex("0b 00 02 00 00")));  // two NULs
    EXPECT_FALSE(c.text(Tag::Password));
}

TEST(CapfCodecMalformed, StringWithoutNulIsAccepted) {
    const Message a = decode_ok(frame_with_body(2, 1, hex("0d 00 04 53 45 50 31")));
    auto s = a.text(Tag::DeviceName);
    ASSERT_TRUE(s) << s.message();
    EXPECT_EQ(**s, "SEP1");  // the last byte is not dropped
    const Message b = decode_ok(frame_with_body(2, 1, hex("0b 00 00")));
    auto e = b.text(Tag::Password);
    ASSERT_TRUE(e);
    ASSERT_TRUE(e->has_value());
    EXPECT_EQ(**e, "");
}

TEST(CapfCodecMalformed, EncodeRefusesABodyOver65535Bytes) {
    Message max(Command::StoreCertificateRequest, 1);
    max.add_bytes(Tag::Certificate, Bytes(65532, 0x30));  // 3 + 65532 = 65535
    auto ok = encode(max);
    ASSERT_TRUE(ok) << ok.message();
    ASSERT_EQ(ok->size(), kHeaderSize + 65535);
    EXPECT_EQ((*ok)[6], 0xff);
    EXPECT_EQ((*ok)[7], 0xff);
    auto back = decode_frame(*ok);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->find(Tag::Certificate)->size(), 65532u);

    Message over(Command::StoreCertificateRequest, 1);
    over.add_bytes(Tag::Certificate, Bytes(65533, 0x30));  // 65536
    EXPECT_FALSE(encode(over));

    Message split(Command::StoreCertificateRequest, 1);
    split.add_bytes(Tag::Certificate, Bytes(40000, 0x30)).add_bytes(Tag::PublicKey, Bytes(30000, 0x30));
    EXPECT_FALSE(encode(split));

    Message huge_value(Command::StoreCertificateRequest, 1);
    huge_value.add_bytes(Tag::Certificate, Bytes(70000, 0x30));
    EXPECT_FALSE(encode(huge_value));
}

// ---------------------------------------------------------------------------
// FrameChannel (§2.3 read rule, §10 first rows)

Bytes sample_frame() {
    Message m(Command::AuthResponse, 42);
    m.add_u8(Tag::Reason, 1).add_u8(Tag::Version, 3).add_string(Tag::Password, "").add_string(Tag::DeviceName,
                                                                                             "SEP001122334455");
    return encode_ok(m);
}

void expect_sample(const Received& r) {
    ASSERT_EQ(r.status, ReceiveStatus::Ok) << r.detail;
    EXPECT_TRUE(r.message.is(Command::AuthResponse));
    EXPECT_EQ(r.message.session_id(), 42u);
    EXPECT_EQ(**r.message.text(Tag::DeviceName), "SEP001122334455");
    EXPECT_EQ(**r.message.u8(Tag::Version), 3);
}

TEST(CapfFrameChannel, FrameInOneByteChunksDecodes) {
    MemoryStream s;
    for (std::uint8_t b : sample_frame()) s.push(ByteView(&b, 1));
    FrameChannel ch(s);
    expect_sample(ch.receive(1s));
    EXPECT_EQ(ch.receive(1s).status, ReceiveStatus::Closed);
}

TEST(CapfFrameChannel, HeaderAndBodyInSeparateChunksDecode) {
    const Bytes f = sample_frame();
    MemoryStream s;
    s.push(ByteView(f.data(), kHeaderSize));
    s.push(ByteView(f.data() + kHeaderSize, f.size() - kHeaderSize));
    FrameChannel ch(s);
    expect_sample(ch.receive(1s));
}

TEST(CapfFrameChannel, BodySplitAcrossManyChunksDecodes) {
    const Bytes f = sample_frame();
    MemoryStream s;
    s.push(ByteView(f.data(), 5));
    s.push(ByteView(f.data() + 5, 6));
    s.push(ByteView(f.data() + 11, 2));
    s.push(ByteView(f.data() + 13, f.size() - 13));
    FrameChannel ch(s);
    expect_sample(ch.receive(1s));
}

TEST(CapfFrameChannel, TwoFramesInOneChunkAreReadOneAtATime) {
    Bytes two = sample_frame();
    const Bytes rip = encode_ok(Message(Command::RequestInProgress, 42));
    two.insert(two.begin(), rip.begin(), rip.end());
    MemoryStream s;
    s.push(two);
    FrameChannel ch(s);
    Received first = ch.receive(1s);
    ASSERT_EQ(first.status, ReceiveStatus::Ok);
    EXPECT_TRUE(first.message.is(Command::RequestInProgress));
    expect_sample(ch.receive(1s));
}

TEST(CapfFrameChannel, EofBeforeTheHeaderIsClosed) {
    MemoryStream s;
    FrameChannel ch(s);
    EXPECT_EQ(ch.receive(1s).status, ReceiveStatus::Closed);
}

TEST(CapfFrameChannel, EofInsideTheHeaderIsClosed) {
    const Bytes f = sample_frame();
    for (std::size_t n = 1; n < kHeaderSize; ++n) {
        SCOPED_TRACE(n);
        MemoryStream s;
        s.push(ByteView(f.data(), n));
        FrameChannel ch(s);
        const Received r = ch.receive(1s);
        EXPECT_EQ(r.status, ReceiveStatus::Closed);
    }
}

TEST(CapfFrameChannel, EofInsideTheBodyIsMalformedTruncated) {
    const Bytes f = sample_frame();
    for (std::size_t n : {kHeaderSize, kHeaderSize + 1, f.size() - 1}) {
        SCOPED_TRACE(n);
        MemoryStream s;
        s.push(ByteView(f.data(), n));
        FrameChannel ch(s);
        const Received r = ch.receive(1s);
        EXPECT_EQ(r.status, ReceiveStatus::Malformed);
        EXPECT_NE(r.detail.find("truncated"), std::string::npos) << r.detail;
    }
}

TEST(CapfFrameChannel, TimeoutBeforeOrInsideAMessageIsTimeout) {
    {
        MemoryStream s;
        s.set_timeout_when_empty(true);
        FrameChannel ch(s);
        EXPECT_EQ(ch.receive(10ms).status, ReceiveStatus::Timeout);
    }
    {
        const Bytes f = sample_frame();
        MemoryStream s;
        s.set_timeout_when_empty(true);
        s.push(ByteView(f.data(), 4));
        FrameChannel ch(s);
        EXPECT_EQ(ch.receive(10ms).status, ReceiveStatus::Timeout);
    }
    {
        const Bytes f = sample_frame();
        MemoryStream s;
        s.set_timeout_when_empty(true);
        s.push(ByteView(f.data(), kHeaderSize + 3));
        FrameChannel ch(s);
        EXPECT_EQ(ch.receive(10ms).status, ReceiveStatus::Timeout);
    }
}

TEST(CapfFrameChannel, BadProtocolIdAndBadElementsAreMalformed) {
    {
        Bytes f = sample_frame();
        f[0] = 0x54;
        MemoryStream s;
        s.push(f);
        FrameChannel ch(s);
        EXPECT_EQ(ch.receive(1s).status, ReceiveStatus::Malformed);
    }
    {
        MemoryStream s;
        s.push(hex("55 02 00 00 00 2a 00 04  07 00 02 03"));
        FrameChannel ch(s);
        EXPECT_EQ(ch.receive(1s).status, ReceiveStatus::Malformed);
    }
    {
        MemoryStream s;
        s.push(hex("55 02 00 00 00 2a 00 02  07 00"));
        FrameChannel ch(s);
        EXPECT_EQ(ch.receive(1s).status, ReceiveStatus::Malformed);
    }
}

TEST(CapfFrameChannel, SendWritesWholeFramesAndReportsFailures) {
    MemoryStream s;
    FrameChannel ch(s);
    Message end(Command::EndSession, 1);
    end.add_u8(Tag::Reason, 1);
    EXPECT_TRUE(ch.send(end));
    EXPECT_TRUE(ch.send(Message(Command::FetchCertificateRequest, 1)));
    const auto frames = s.take_written_frames();
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0], hex("55 0f 00 00 00 01 00 04  01 00 01 01"));
    EXPECT_EQ(frames[1], hex("55 0b 00 00 00 01 00 00"));

    Message too_big(Command::StoreCertificateRequest, 1);
    too_big.add_bytes(Tag::Certificate, Bytes(65533, 0));
    EXPECT_FALSE(ch.send(too_big));
    EXPECT_TRUE(s.take_written_frames().empty());

    s.set_fail_writes(true);
    EXPECT_FALSE(ch.send(end));
    EXPECT_TRUE(s.take_written_frames().empty());
}

}  // namespace
}  // namespace lscgate::capf
