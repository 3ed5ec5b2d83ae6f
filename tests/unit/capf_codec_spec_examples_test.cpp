// The CAPF codec against the exact byte examples of module/capf/PROTOCOL.md §9
// (session id 1): each message encodes to the spec's bytes and decodes back.

#include "capf/codec.h"
#include "capf/protocol.h"
#include "capf_codec_support.h"
#include "pki/keys.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace lscgate::capf {
namespace {

using test::decode_ok;
using test::encode_ok;
using test::hex;

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

}  // namespace
}  // namespace lscgate::capf
