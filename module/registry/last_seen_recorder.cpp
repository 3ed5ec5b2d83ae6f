#include "registry/last_seen_recorder.h"

namespace lscgate {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS last_seen(
  device TEXT PRIMARY KEY,
  class TEXT NOT NULL,
  nas TEXT NOT NULL,
  reason TEXT NOT NULL,
  at INTEGER NOT NULL,
  count INTEGER NOT NULL
);
)sql";

}  // namespace

Result<std::unique_ptr<LastSeenRecorder>> LastSeenRecorder::start(const std::filesystem::path& file,
                                                                  std::chrono::milliseconds interval,
                                                                  std::size_t max_pending) {
    auto db = SqliteDatabase::open(file.string(), SqliteDatabase::Mode::ReadWriteCreate, 1000);
    if (!db) return db.error();
    if (auto s = configure_wal(*db); !s) return fail(file.string() + ": " + s.message());
    if (auto s = db->exec(kSchema); !s) return fail(file.string() + ": " + s.message());
    std::unique_ptr<LastSeenRecorder> r(new LastSeenRecorder(std::move(*db), interval, max_pending));
    r->thread_ = std::thread(&LastSeenRecorder::run, r.get());
    return r;
}

LastSeenRecorder::LastSeenRecorder(SqliteDatabase db, std::chrono::milliseconds interval, std::size_t max_pending)
    : db_(std::move(db)), interval_(interval), max_pending_(max_pending) {}

LastSeenRecorder::~LastSeenRecorder() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    (void)flush();
}

void LastSeenRecorder::record(SeenEvent event) noexcept {
    try {
        std::lock_guard lock(mutex_);
        auto it = pending_.find(event.device);
        if (it == pending_.end()) {
            if (pending_.size() >= max_pending_) {
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

std::string LastSeenRecorder::last_error() const {
    std::lock_guard lock(mutex_);
    return last_error_;
}

Status LastSeenRecorder::write(const std::map<std::string, SeenRecord>& batch) {
    std::lock_guard lock(write_mutex_);
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto st = db_.prepare(
        "INSERT INTO last_seen(device, class, nas, reason, at, count) VALUES(?,?,?,?,?,?) "
        "ON CONFLICT(device) DO UPDATE SET class=excluded.class, nas=excluded.nas, reason=excluded.reason, "
        "at=excluded.at, count=last_seen.count + excluded.count");
    if (!st) return st.error();
    for (const auto& [device, rec] : batch) {
        st->bind(1, device).bind(2, rec.last.cls).bind(3, rec.last.nas).bind(4, rec.last.reason).bind(5, rec.last.at)
            .bind(6, rec.count);
        if (auto s = st->run(); !s) return s;
    }
    return tx->commit();
}

Status LastSeenRecorder::flush() {
    std::map<std::string, SeenRecord> batch;
    {
        std::lock_guard lock(mutex_);
        batch.swap(pending_);
    }
    if (batch.empty()) return {};
    auto s = write(batch);
    if (!s) {
        std::lock_guard lock(mutex_);
        last_error_ = s.message();
        dropped_ += batch.size();
    }
    return s;
}

void LastSeenRecorder::run() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
        wake_.wait_for(lock, interval_, [&] { return stop_; });
        lock.unlock();
        (void)flush();
        lock.lock();
    }
}

Result<std::vector<SeenRecord>> LastSeenRecorder::read_all(const std::filesystem::path& file) {
    auto db = SqliteDatabase::open(file.string(), SqliteDatabase::Mode::ReadOnly, 1000);
    if (!db) return db.error();
    auto st = db->prepare("SELECT device, class, nas, reason, at, count FROM last_seen ORDER BY device");
    if (!st) return st.error();
    std::vector<SeenRecord> out;
    while (true) {
        auto row = st->step();
        if (!row) return row.error();
        if (!*row) break;
        SeenRecord r;
        r.last = {st->column_text(0), st->column_text(1), st->column_text(2), st->column_text(3), st->column_int(4)};
        r.count = st->column_int(5);
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace lscgate
