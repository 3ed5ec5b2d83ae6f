#pragma once

#include "pki/bytes.h"

#include <asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <string>

namespace lscgate::capf {

using Clock = std::chrono::steady_clock;

enum class IoStatus { Ok, Closed, Timeout, Error };

struct IoResult {
    IoStatus status = IoStatus::Ok;
    std::size_t bytes = 0;
    std::string detail;
};

// A reliable byte pipe with deadlines: TLS in production, memory in tests and
// fuzzing, so the framing and session code is the same in both.
//
// Each operation has a sequential form and a coroutine form. A stream that
// never waits (MemoryStream) or that may block its thread (TlsStream) gets the
// coroutine forms for free: they call the sequential ones. A stream on an event
// loop (AsyncTlsStream) overrides them to suspend instead of blocking.
class ByteStream {
public:
    virtual ~ByteStream() = default;
    // Reads at least one byte unless the peer closed, the deadline passed or an error occurred.
    virtual IoResult read_some(std::uint8_t* buffer, std::size_t size, Clock::time_point deadline) = 0;
    // Writes everything in one call (one TLS record per CAPF message, §2.3 write rule).
    virtual IoResult write_all(ByteView data, Clock::time_point deadline) = 0;

    /// read_some as a coroutine; `buffer` must outlive the call.
    virtual asio::awaitable<IoResult> async_read_some(std::uint8_t* buffer, std::size_t size, Clock::time_point deadline) {
        co_return read_some(buffer, size, deadline);
    }
    /// write_all as a coroutine; `data` must outlive the call.
    virtual asio::awaitable<IoResult> async_write_all(ByteView data, Clock::time_point deadline) {
        co_return write_all(data, deadline);
    }
};

}  // namespace lscgate::capf
