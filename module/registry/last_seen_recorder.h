#pragma once

// Remembers, per device, the last certificate class a RADIUS request showed,
// from which NAS and when — so a report can list phones still authenticating
// with a MIC. Requests only put an entry in memory (a short lock, no I/O); a
// background thread writes the batch to its own SQLite file every interval.
// When the writer falls behind, the oldest news is coalesced per device and
// entries beyond the bound are dropped and counted, never waited for.

#include "pki/result.h"
#include "registry/sqlite_handles.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace lscgate {

struct SeenEvent {
    std::string device;
    std::string cls;
    std::string nas;
    std::string reason;
    std::int64_t at = 0;
};

struct SeenRecord {
    SeenEvent last;
    std::int64_t count = 0;
};

class LastSeenRecorder {
public:
    static Result<std::unique_ptr<LastSeenRecorder>> start(const std::filesystem::path& file,
                                                           std::chrono::milliseconds interval = std::chrono::seconds(1),
                                                           std::size_t max_pending = 10000);
    ~LastSeenRecorder();
    LastSeenRecorder(const LastSeenRecorder&) = delete;
    LastSeenRecorder& operator=(const LastSeenRecorder&) = delete;

    void record(SeenEvent event) noexcept;
    // Writes what is pending now (tests, shutdown).
    Status flush();
    std::uint64_t dropped() const;
    std::string last_error() const;

    static Result<std::vector<SeenRecord>> read_all(const std::filesystem::path& file);

private:
    LastSeenRecorder(SqliteDatabase db, std::chrono::milliseconds interval, std::size_t max_pending);
    void run();
    Status write(const std::map<std::string, SeenRecord>& batch);

    SqliteDatabase db_;
    std::mutex write_mutex_;  // the writer thread and flush() take turns on db_
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::map<std::string, SeenRecord> pending_;
    std::chrono::milliseconds interval_;
    std::size_t max_pending_;
    std::uint64_t dropped_ = 0;
    std::string last_error_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace lscgate
