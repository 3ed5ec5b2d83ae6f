// What the CAPF decoder does with input beyond the well-formed: repeated and
// unknown tags (module/capf/PROTOCOL.md §3.3) and malformed frames and elements
// (§3, §3.3, §10), refused with a reason; and the encoder's size limit.

#include "capf/codec.h"
#include "capf/protocol.h"
#include "capf_codec_support.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace lscgate::capf {
namespace {

using test::decode_ok;
using test::encode_ok;
using test::frame_with_body;
using test::hex;

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

}  // namespace
}  // namespace lscgate::capf
