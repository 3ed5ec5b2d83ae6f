#pragma once

#include "pki/bytes.h"

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
class ByteStream {
public:
    virtual ~ByteStream() = default;
    // Reads at least one byte unless the peer closed, the deadline passed or an error occurred.
    virtual IoResult read_some(std::uint8_t* buffer, std::size_t size, Clock::time_point deadline) = 0;
    // Writes everything in one call (one TLS record per CAPF message, §2.3 write rule).
    virtual IoResult write_all(ByteView data, Clock::time_point deadline) = 0;
};

}  // namespace lscgate::capf
