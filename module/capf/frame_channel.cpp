#include "capf/frame_channel.h"

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

IoResult FrameChannel::read_exact(std::uint8_t* buffer, std::size_t size, Clock::time_point deadline) {
    std::size_t have = 0;
    while (have < size) {
        auto r = stream_.read_some(buffer + have, size - have, deadline);
        if (r.status != IoStatus::Ok) {
            r.bytes = have;
            return r;
        }
        have += r.bytes;
    }
    return {IoStatus::Ok, have, {}};
}

Received FrameChannel::receive(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    Received out;
    std::uint8_t header[kHeaderSize];
    auto r = read_exact(header, sizeof header, deadline);
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
        return out;
    }
    auto h = decode_header(ByteView(header, sizeof header));
    if (!h) return {ReceiveStatus::Malformed, {}, h.message()};
    Bytes body(h->length);
    r = read_exact(body.data(), body.size(), deadline);
    if (r.status != IoStatus::Ok) {
        if (r.status == IoStatus::Timeout) return {ReceiveStatus::Timeout, {}, "timed out inside a message body"};
        return {ReceiveStatus::Malformed, {},
                "truncated: body has " + std::to_string(r.bytes) + " of " + std::to_string(h->length) + " bytes"};
    }
    auto m = decode_body(*h, body);
    if (!m) return {ReceiveStatus::Malformed, {}, m.message()};
    out.message = std::move(*m);
    return out;
}

bool FrameChannel::send(const Message& message, std::chrono::milliseconds timeout) {
    auto bytes = encode(message);
    if (!bytes) return false;
    return stream_.write_all(*bytes, Clock::now() + timeout).status == IoStatus::Ok;
}

}  // namespace lscgate::capf
