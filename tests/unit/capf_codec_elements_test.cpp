// CAPF commands and elements (module/capf/PROTOCOL.md §4.1, §4.2): the spec's code
// tables, how each element type is written and read, and the layouts inside
// elements (§5.1 CERTIFICATE wrapper, §5.2 SHA2_SIGNED_DATA, §5.3 SUDI_DATA).

#include "capf/codec.h"
#include "capf/protocol.h"
#include "capf_codec_support.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lscgate::capf {
namespace {

using test::decode_ok;
using test::encode_ok;
using test::frame_with_body;
using test::hex;
using test::str_bytes;

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

}  // namespace
}  // namespace lscgate::capf
