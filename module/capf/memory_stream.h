#pragma once

#include "capf/byte_stream.h"

#include <deque>
#include <vector>

namespace lscgate::capf {

// A scripted peer for unit tests and fuzzing: reads are served from queued
// chunks (one chunk per read at most, so split deliveries can be exercised);
// an empty queue reads as the peer closing, or as a timeout when asked.
class MemoryStream : public ByteStream {
public:
    void push(ByteView chunk) { chunks_.emplace_back(chunk.begin(), chunk.end()); }
    void set_timeout_when_empty(bool v) { timeout_when_empty_ = v; }
    const Bytes& written() const { return written_; }
    std::vector<Bytes> take_written_frames();
    void set_fail_writes(bool v) { fail_writes_ = v; }

    IoResult read_some(std::uint8_t* buffer, std::size_t size, Clock::time_point deadline) override;
    IoResult write_all(ByteView data, Clock::time_point deadline) override;

private:
    std::deque<Bytes> chunks_;
    Bytes written_;
    std::size_t consumed_written_ = 0;
    bool timeout_when_empty_ = false;
    bool fail_writes_ = false;
};

}  // namespace lscgate::capf
