#include "registry/last_seen_recorder.h"

#include <algorithm>

namespace lscgate {

Result<std::unique_ptr<LastSeenRecorder>> LastSeenRecorder::start(std::unique_ptr<LastSeenSink> sink, Options options) {
    if (!sink) return fail(ErrorKind::Internal, "last-seen recorder without a sink");
    if (options.max_backoff < options.interval) options.max_backoff = options.interval;
    std::unique_ptr<LastSeenRecorder> r(new LastSeenRecorder(std::move(sink), std::move(options)));
    r->thread_ = std::thread(&LastSeenRecorder::run, r.get());
    return r;
}

Result<std::unique_ptr<LastSeenRecorder>> LastSeenRecorder::start(const std::filesystem::path& file,
                                                                  std::chrono::milliseconds interval,
                                                                  std::size_t max_pending) {
    auto sink = open_sqlite_last_seen(file);
    if (!sink) return sink.error();
    Options options;
    options.interval = interval;
    options.max_pending = max_pending;
    return start(std::move(*sink), std::move(options));
}

LastSeenRecorder::LastSeenRecorder(std::unique_ptr<LastSeenSink> sink, Options options)
    : sink_(std::move(sink)), options_(std::move(options)) {}

LastSeenRecorder::~LastSeenRecorder() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (!flush()) {
        std::lock_guard lock(mutex_);
        dropped_ += pending_.size();
        pending_.clear();
    }
}

void LastSeenRecorder::record(SeenEvent event) noexcept {
    try {
        std::lock_guard lock(mutex_);
        auto it = pending_.find(event.device);
        if (it == pending_.end()) {
            if (pending_.size() >= options_.max_pending) {
                ++dropped_;
                return;
            }
            it = pending_.emplace(event.device, SeenRecord{}).first;
        }
        it->second.count += 1;
        it->second.last = std::move(event);
    } catch (...) {
        // Out of memory here must not become a failed authentication.
    }
}

std::uint64_t LastSeenRecorder::dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
}

std::size_t LastSeenRecorder::pending() const {
    std::lock_guard lock(mutex_);
    return pending_.size();
}

std::string LastSeenRecorder::last_error() const {
    std::lock_guard lock(mutex_);
    return last_error_;
}

void LastSeenRecorder::put_back(std::map<std::string, SeenRecord>&& batch) {
    // What arrived while the batch was out is newer: it keeps its fields and
    // adds the batch's count; a device only in the batch comes back if there is room.
    for (auto& [device, rec] : batch) {
        auto it = pending_.find(device);
        if (it != pending_.end()) {
            it->second.count += rec.count;
        } else if (pending_.size() < options_.max_pending) {
            pending_.emplace(device, std::move(rec));
        } else {
            dropped_ += static_cast<std::uint64_t>(rec.count);
        }
    }
}

Status LastSeenRecorder::flush() {
    std::lock_guard write_lock(write_mutex_);
    std::map<std::string, SeenRecord> batch;
    {
        std::lock_guard lock(mutex_);
        batch.swap(pending_);
    }
    if (batch.empty()) return {};
    Status s;
    try {
        std::vector<SeenRecord> rows;
        rows.reserve(batch.size());
        for (const auto& [device, rec] : batch) rows.push_back(rec);
        s = sink_->write(rows, options_.node);
    } catch (const std::exception& e) {
        s = fail(ErrorKind::Internal, std::string("last-seen write: ") + e.what());
    }
    std::lock_guard lock(mutex_);
    if (s) {
        failures_ = 0;
        last_error_.clear();
    } else {
        last_error_ = sink_->describe() + ": " + s.message();
        if (s.kind() == ErrorKind::Input) {
            // The database refuses a value of the batch: retrying it would refuse
            // it again forever, so it is dropped (counted) and the next one tried.
            for (const auto& [device, rec] : batch) dropped_ += static_cast<std::uint64_t>(rec.count);
        } else {
            ++failures_;
            put_back(std::move(batch));
        }
    }
    return s;
}

void LastSeenRecorder::run() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
        // After n consecutive failures wait interval * 2^n (capped): a server that
        // is down is not hammered, and one that is back is written to soon.
        auto wait = options_.interval;
        for (std::uint32_t i = 0; i < failures_ && wait < options_.max_backoff; ++i) wait *= 2;
        wait = std::min(wait, std::max(options_.max_backoff, options_.interval));
        wake_.wait_for(lock, wait, [&] { return stop_; });
        if (stop_) break;
        lock.unlock();
        // An exception (bad_alloc) escaping this thread would std::terminate
        // radiusd; it counts as a failed write (back-off), what it held is lost.
        bool threw = false;
        try {
            (void)flush();
        } catch (...) {
            threw = true;
        }
        lock.lock();
        if (threw) ++failures_;
    }
}

Result<std::vector<SeenRecord>> LastSeenRecorder::read_all(const std::filesystem::path& file) {
    return read_sqlite_last_seen(file);
}

}  // namespace lscgate
