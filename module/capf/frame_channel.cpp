#include "capf/frame_channel.h"

#include "capf/run_sync.h"

#include <algorithm>

namespace lscgate::capf {

std::string to_string(ReceiveStatus s) {
    switch (s) {
        case ReceiveStatus::Ok: return "ok";
        case ReceiveStatus::Closed: return "closed";
        case ReceiveStatus::Timeout: return "timeout";
        case ReceiveStatus::Malformed: return "malformed";
        case ReceiveStatus::IoError: return "io-error";
    }
    return "?";
}

asio::awaitable<IoResult> FrameChannel::read_exact(std::uint8_t* buffer, std::size_t size, Clock::time_point deadline) {
    std::size_t have = 0;
    while (have < size) {
        auto r = co_await stream_.async_read_some(buffer + have, size - have, deadline);
        if (r.status != IoStatus::Ok) {
            r.bytes = have;
            co_return r;
        }
        have += r.bytes;
    }
    co_return IoResult{IoStatus::Ok, have, {}};
}

asio::awaitable<Received> FrameChannel::async_receive(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    Received out;
    std::uint8_t header[kHeaderSize];
    auto r = co_await read_exact(header, sizeof header, deadline);
    if (r.status != IoStatus::Ok) {
        out.detail = r.detail;
        switch (r.status) {
            case IoStatus::Closed:
                out.status = ReceiveStatus::Closed;
                if (r.bytes > 0) out.detail = "peer closed inside the header after " + std::to_string(r.bytes) + " bytes";
                break;
            case IoStatus::Timeout: out.status = ReceiveStatus::Timeout; break;
            default: out.status = ReceiveStatus::IoError; break;
        }
        co_return out;
    }
    auto h = decode_header(ByteView(header, sizeof header));
    if (!h) co_return Received{ReceiveStatus::Malformed, {}, h.message()};
    // The body grows with what actually arrived, a chunk at a time: a header that
    // announces 64 KB and a peer that then trickles (or stops) cost what it sent,
    // not 64 KB per connection times thousands of sessions.
    constexpr std::size_t kChunk = 4096;
    Bytes body;
    r = IoResult{IoStatus::Ok, 0, {}};
    while (body.size() < h->length && r.status == IoStatus::Ok) {
        const std::size_t have = body.size();
        body.resize(have + std::min<std::size_t>(kChunk, h->length - have));
        r = co_await read_exact(body.data() + have, body.size() - have, deadline);
        r.bytes += have;
    }
    if (r.status != IoStatus::Ok) {
        if (r.status == IoStatus::Timeout) co_return Received{ReceiveStatus::Timeout, {}, "timed out inside a message body"};
        co_return Received{ReceiveStatus::Malformed, {},
                           "truncated: body has " + std::to_string(r.bytes) + " of " + std::to_string(h->length) + " bytes"};
    }
    auto m = decode_body(*h, body);
    if (!m) co_return Received{ReceiveStatus::Malformed, {}, m.message()};
    out.message = std::move(*m);
    co_return out;
}

asio::awaitable<bool> FrameChannel::async_send(const Message& message, std::chrono::milliseconds timeout) {
    auto bytes = encode(message);
    if (!bytes) co_return false;
    const auto r = co_await stream_.async_write_all(*bytes, Clock::now() + timeout);
    co_return r.status == IoStatus::Ok;
}

Received FrameChannel::receive(std::chrono::milliseconds timeout) { return run_sync(async_receive(timeout)); }

bool FrameChannel::send(const Message& message, std::chrono::milliseconds timeout) {
    return run_sync(async_send(message, timeout));
}

}  // namespace lscgate::capf
