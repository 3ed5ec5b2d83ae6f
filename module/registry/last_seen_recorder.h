#pragma once

// Remembers, per device, the last certificate class a RADIUS request showed,
// from which NAS, port and session, on which node and when — so a report can
// list phones still authenticating with a MIC, and where. Requests only put an
// entry in memory (a short lock, no I/O); a background thread writes the batch
// to a sink (last_seen_sink.h: a SQLite file, or the PostgreSQL registry) every
// interval. When a write fails (PostgreSQL down, disk full) the batch goes back
// into memory, coalesced per device with what arrived since, and the thread
// retries with exponential back-off; entries beyond the bound are dropped and
// counted, never waited for.

#include "pki/result.h"
#include "registry/last_seen_sink.h"

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

class LastSeenRecorder {
public:
    /// Timing and bounds of the writer thread.
    struct Options {
        std::chrono::milliseconds interval{std::chrono::seconds(1)};  ///< between writes
        std::size_t max_pending = 10000;  ///< devices held in memory; news of more is dropped (counted)
        std::chrono::milliseconds max_backoff{std::chrono::seconds(30)};  ///< cap of the retry delay after failures
        std::string node;  ///< this RADIUS node's name, written with every row
    };

    /// Starts the writer thread over `sink` (not null).
    static Result<std::unique_ptr<LastSeenRecorder>> start(std::unique_ptr<LastSeenSink> sink, Options options);
    /// Over a SQLite file (created if missing). Errors: the file cannot be opened.
    static Result<std::unique_ptr<LastSeenRecorder>> start(const std::filesystem::path& file,
                                                           std::chrono::milliseconds interval = std::chrono::seconds(1),
                                                           std::size_t max_pending = 10000);
    /// Stops the thread and writes what is pending once more (a failure there is
    /// counted in dropped()).
    ~LastSeenRecorder();
    LastSeenRecorder(const LastSeenRecorder&) = delete;
    LastSeenRecorder& operator=(const LastSeenRecorder&) = delete;

    /// Memory only: a short lock, no I/O, never throws (for the worker threads).
    void record(SeenEvent event) noexcept;
    /// Writes what is pending now (tests, shutdown). On failure the batch is kept
    /// for the next attempt (coalesced, bounded) and the error returned; on an
    /// Input error (the database refuses a value) it is dropped and counted.
    Status flush();
    /// Events lost: beyond max_pending, refused by the database, or still
    /// unwritten at destruction.
    std::uint64_t dropped() const;
    /// Devices waiting to be written.
    std::size_t pending() const;
    /// The last write error, "" after a success.
    std::string last_error() const;
    const std::string& node() const { return options_.node; }

    /// Every row of a SQLite last-seen file (read_sqlite_last_seen).
    static Result<std::vector<SeenRecord>> read_all(const std::filesystem::path& file);

private:
    LastSeenRecorder(std::unique_ptr<LastSeenSink> sink, Options options);
    void run();
    void put_back(std::map<std::string, SeenRecord>&& batch);  // under mutex_

    std::unique_ptr<LastSeenSink> sink_;
    Options options_;
    std::mutex write_mutex_;  // the writer thread and flush() take turns on sink_
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::map<std::string, SeenRecord> pending_;
    std::uint64_t dropped_ = 0;
    std::uint32_t failures_ = 0;  // consecutive failed writes: the back-off exponent
    std::string last_error_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace lscgate
