#pragma once

// Reads and writes whole CAPF messages over a ByteStream: the header exactly,
// then the body in as many reads as it takes (§2.3 read rule), with one deadline
// per message.

#include "capf/byte_stream.h"
#include "capf/codec.h"

#include <asio/awaitable.hpp>

#include <chrono>
#include <string>

namespace lscgate::capf {

enum class ReceiveStatus { Ok, Closed, Timeout, Malformed, IoError };

struct Received {
    ReceiveStatus status = ReceiveStatus::Ok;
    Message message;
    std::string detail;
};

class FrameChannel {
public:
    explicit FrameChannel(ByteStream& stream) : stream_(stream) {}

    /// One whole message, read within `timeout` from now; never throws for what
    /// the peer sends (Malformed, Closed, ...).
    asio::awaitable<Received> async_receive(std::chrono::milliseconds timeout);
    /// Encodes `message` and writes it whole within `timeout`; false when it could
    /// not be encoded or written.
    asio::awaitable<bool> async_send(const Message& message,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(10));

    /// The same, run to completion on this thread (capf/run_sync.h).
    Received receive(std::chrono::milliseconds timeout);
    bool send(const Message& message, std::chrono::milliseconds timeout = std::chrono::seconds(10));

private:
    asio::awaitable<IoResult> read_exact(std::uint8_t* buffer, std::size_t size, Clock::time_point deadline);
    ByteStream& stream_;
};

std::string to_string(ReceiveStatus s);

}  // namespace lscgate::capf
