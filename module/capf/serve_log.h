#pragma once

// The log of `lscgate serve`: every line of every thread (sessions, the accept
// loop, reloads, the CRL service's refresh and HTTP threads) goes through one
// ServeLog, so lines never interleave inside one another.

#include <mutex>
#include <ostream>
#include <string>

namespace lscgate::capf {

class ServeLog {
public:
    explicit ServeLog(std::ostream& out) : out_(out) {}
    ServeLog(const ServeLog&) = delete;
    ServeLog& operator=(const ServeLog&) = delete;

    /// Writes "2026-11-28T18:42:13Z TEXT\n" (the time now, UTC) and flushes,
    /// whole, under the log's mutex. Safe from any thread.
    void line(const std::string& text);

private:
    std::mutex mutex_;
    std::ostream& out_;
};

}  // namespace lscgate::capf
