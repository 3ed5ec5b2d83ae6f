#include "capf/memory_stream.h"

#include "capf/protocol.h"

#include <algorithm>
#include <cstring>

namespace lscgate::capf {

IoResult MemoryStream::read_some(std::uint8_t* buffer, std::size_t size, Clock::time_point) {
    while (!chunks_.empty() && chunks_.front().empty()) chunks_.pop_front();
    if (chunks_.empty()) {
        if (timeout_when_empty_) return {IoStatus::Timeout, 0, "no data before the deadline"};
        return {IoStatus::Closed, 0, "peer closed"};
    }
    auto& front = chunks_.front();
    const std::size_t n = std::min(size, front.size());
    std::memcpy(buffer, front.data(), n);
    front.erase(front.begin(), front.begin() + static_cast<std::ptrdiff_t>(n));
    return {IoStatus::Ok, n, {}};
}

IoResult MemoryStream::write_all(ByteView data, Clock::time_point) {
    if (fail_writes_) return {IoStatus::Error, 0, "write failed"};
    written_.insert(written_.end(), data.begin(), data.end());
    return {IoStatus::Ok, data.size(), {}};
}

std::vector<Bytes> MemoryStream::take_written_frames() {
    std::vector<Bytes> frames;
    while (consumed_written_ + kHeaderSize <= written_.size()) {
        const std::size_t len = (static_cast<std::size_t>(written_[consumed_written_ + 6]) << 8) |
                                written_[consumed_written_ + 7];
        const std::size_t total = kHeaderSize + len;
        if (consumed_written_ + total > written_.size()) break;
        frames.emplace_back(written_.begin() + static_cast<std::ptrdiff_t>(consumed_written_),
                            written_.begin() + static_cast<std::ptrdiff_t>(consumed_written_ + total));
        consumed_written_ += total;
    }
    return frames;
}

}  // namespace lscgate::capf
