// The CAPF FrameChannel: whole messages read over a ByteStream however the bytes
// arrive (module/capf/PROTOCOL.md §2.3 read rule), end of stream, timeouts and
// malformed frames (§10 first rows), and whole frames written.

#include "capf/codec.h"
#include "capf/frame_channel.h"
#include "capf/memory_stream.h"
#include "capf/protocol.h"
#include "capf_codec_support.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace lscgate::capf {
namespace {

using namespace std::chrono_literals;
using test::encode_ok;
using test::hex;

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
