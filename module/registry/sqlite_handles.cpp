#include "registry/sqlite_handles.h"

#include "pki/secure_file.h"

#include <filesystem>

#include <iterator>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace lscgate {

namespace {

// SQLite's result code as an Error of the right kind: a locked database or a
// full disk is Unavailable (it passes; callers refuse cleanly and retry later),
// anything else Internal.
Error sqlite_error(int rc, const std::string& why) {
    switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return fail(ErrorKind::Unavailable, "database error: database is locked by another process (" + why + ")");
        case SQLITE_FULL:
            return fail(ErrorKind::Unavailable,
                        "database error: " + why + " (the registry's file system is full; writes resume when space returns)");
        case SQLITE_IOERR:
            return fail(ErrorKind::Unavailable, "database error: " + why);
        default:
            return fail("database error: " + why);
    }
}

}  // namespace

// Idle prepared statements of one connection, least recently used first out.
// The cap bounds memory whatever SQL texts callers use (each statement is a few
// KB of SQLite bytecode); a statement in use is never here, so two users of the
// same SQL each get their own.
class StatementCache {
public:
    ~StatementCache() { finalize_all(); }
    sqlite3_stmt* take(std::string_view sql) {
        std::lock_guard lock(mutex_);
        auto it = index_.find(sql);
        if (it == index_.end()) return nullptr;
        auto entry = it->second;
        index_.erase(it);
        sqlite3_stmt* s = entry->stmt;
        lru_.erase(entry);
        return s;
    }
    void give_back(sqlite3_stmt* stmt) {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        std::lock_guard lock(mutex_);
        if (closed_) {
            sqlite3_finalize(stmt);
            return;
        }
        lru_.push_front(Entry{sqlite3_sql(stmt), stmt});
        index_.emplace(lru_.front().sql, lru_.begin());
        while (lru_.size() > kStatementCacheCapacity) evict_oldest();
    }
    std::size_t size() const {
        std::lock_guard lock(mutex_);
        return lru_.size();
    }
    // Called before the connection closes; later give_back() calls finalize.
    void finalize_all() {
        std::lock_guard lock(mutex_);
        while (!lru_.empty()) evict_oldest();
        closed_ = true;
    }

private:
    struct Entry {
        std::string sql;
        sqlite3_stmt* stmt;
    };
    void evict_oldest() {
        auto last = std::prev(lru_.end());
        auto [first, end] = index_.equal_range(last->sql);
        for (auto it = first; it != end; ++it)
            if (it->second == last) {
                index_.erase(it);
                break;
            }
        sqlite3_finalize(last->stmt);
        lru_.pop_back();
    }
    mutable std::mutex mutex_;
    std::list<Entry> lru_;  // most recently returned first; std::list keeps `sql` in place for the index keys
    std::unordered_multimap<std::string_view, std::list<Entry>::iterator> index_;
    bool closed_ = false;
};

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      cache_(std::move(other.cache_)) {}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
    if (this != &other) {
        release();
        db_ = std::exchange(other.db_, nullptr);
        stmt_ = std::exchange(other.stmt_, nullptr);
        cache_ = std::move(other.cache_);
    }
    return *this;
}

SqliteStatement::~SqliteStatement() { release(); }

void SqliteStatement::release() noexcept {
    if (stmt_ == nullptr) return;
    if (cache_) cache_->give_back(stmt_);
    else sqlite3_finalize(stmt_);
    stmt_ = nullptr;
}

SqliteStatement& SqliteStatement::bind(int index, std::int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::string_view value) {
    sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::nullopt_t) {
    sqlite3_bind_null(stmt_, index);
    return *this;
}

Result<bool> SqliteStatement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sqlite_error(rc, sqlite3_errmsg(db_));
}

Status SqliteStatement::run() {
    auto r = step();
    reset();
    if (!r) return r.error();
    return {};
}

void SqliteStatement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

std::int64_t SqliteStatement::column_int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::optional<std::int64_t> SqliteStatement::column_optional_int(int col) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_int64(stmt_, col);
}

std::string SqliteStatement::column_text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    if (p == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::optional<std::string> SqliteStatement::column_optional_text(int col) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return column_text(col);
}

SqliteDatabase::SqliteDatabase(sqlite3* db) : db_(db), cache_(std::make_shared<StatementCache>()) {}

std::size_t SqliteDatabase::cached_statements() const { return cache_ ? cache_->size() : 0; }

SqliteDatabase& SqliteDatabase::operator=(SqliteDatabase&& other) noexcept {
    if (this != &other) {
        if (cache_) cache_->finalize_all();
        sqlite3_close_v2(db_);
        db_ = std::exchange(other.db_, nullptr);
        cache_ = std::move(other.cache_);
        writer_lock_ = std::move(other.writer_lock_);
    }
    return *this;
}

SqliteDatabase::~SqliteDatabase() {
    if (cache_) cache_->finalize_all();
    // close_v2 defers the close until any statement still out is finalized.
    sqlite3_close_v2(db_);
}

Result<SqliteDatabase> SqliteDatabase::open(const std::string& path, Mode mode, int busy_timeout_ms) {
    int flags = SQLITE_OPEN_NOMUTEX;
    switch (mode) {
        case Mode::ReadWriteCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
        case Mode::ReadWrite: flags |= SQLITE_OPEN_READWRITE; break;
        case Mode::ReadOnly: flags |= SQLITE_OPEN_READONLY; break;
    }
    std::error_code ec;
    const bool created = mode == Mode::ReadWriteCreate && !std::filesystem::exists(path, ec) && !ec;
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    SqliteDatabase db(raw);
    if (rc != SQLITE_OK) {
        return fail("cannot open database " + path + ": " + (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    }
    // A new file gets its directory's owner and group (when root creates it) and
    // 0640 in a setgid group-readable directory, before the first write: SQLite
    // gives the -wal/-shm it creates later the database file's mode (and, as
    // root, owner). The descriptor opened here is closed before any lock exists
    // on the new file (closing it would drop this process's locks on it).
    if (created && std::filesystem::exists(path, ec)) {
        if (auto s = share_new_file_with_directory_group(path); !s) return fail("cannot open database " + path + ": " + s.message());
    }
    sqlite3_busy_timeout(raw, busy_timeout_ms);
    sqlite3_extended_result_codes(raw, 1);
    // Never memory-map the database: other processes (lscgate, an admin's
    // truncate or restore) may shrink the file under us, and touching a mapped
    // page past the new end is SIGBUS, which kills the whole process (for the
    // RADIUS module: FreeRADIUS). With reads through pread() a short file is an
    // SQLITE_CORRUPT/IOERR that the caller turns into a refusal. Set on every
    // connection so no build-time default (SQLITE_DEFAULT_MMAP_SIZE) can enable it.
    if (auto s = db.exec("PRAGMA mmap_size = 0"); !s) return fail("cannot open database " + path + ": " + s.message());
    return db;
}

Status SqliteDatabase::exec(std::string_view sql) {
    char* err = nullptr;
    const std::string text(sql);
    if (const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err); rc != SQLITE_OK) {
        std::string why = err != nullptr ? err : sqlite3_errmsg(db_);
        sqlite3_free(err);
        return sqlite_error(rc, why);
    }
    return {};
}

Result<SqliteStatement> SqliteDatabase::prepare(std::string_view sql) {
    if (sqlite3_stmt* cached = cache_->take(sql)) return SqliteStatement(db_, cached, cache_);
    sqlite3_stmt* stmt = nullptr;
    if (const int rc =
            sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
        rc != SQLITE_OK) {
        return sqlite_error(rc, sqlite3_errmsg(db_));
    }
    return SqliteStatement(db_, stmt, cache_);
}

Status configure_wal(SqliteDatabase& db) {
    // journal_mode answers with a row, so it is stepped rather than exec'd.
    auto wal = db.prepare("PRAGMA journal_mode = WAL");
    if (!wal) return wal.error();
    if (auto r = wal->step(); !r) return r.error();
    wal->reset();
    // Persistent WAL: the last writer to close keeps (truncates) -wal and -shm
    // instead of deleting them, so that readers which may not write the
    // directory (FreeRADIUS in the packaged layout) never need to create them.
    // An in-memory database has no file to keep: the answer is ignored.
    int persist = 1;
    (void)sqlite3_file_control(db.raw(), "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
    for (const std::string& pragma :
         {std::string("PRAGMA synchronous = NORMAL"),
          "PRAGMA wal_autocheckpoint = " + std::to_string(kWalCheckpointPages),
          "PRAGMA journal_size_limit = " + std::to_string(kWalSizeLimitBytes)}) {
        if (auto s = db.exec(pragma); !s) return s;
    }
    return {};
}

namespace {

// BEGIN IMMEDIATE and COMMIT through the connection's statement cache, prepared
// once instead of parsed by sqlite3_exec at every transaction: a CAPF enrolment
// makes four write transactions, and their parsing showed in serve's profile.
Status run_cached(SqliteDatabase& db, std::string_view sql) {
    auto st = db.prepare(sql);
    if (!st) return st.error();
    return st->run();
}

}  // namespace

Result<SqliteTransaction> SqliteTransaction::begin(SqliteDatabase& db) {
    const bool nested = sqlite3_get_autocommit(db.raw()) == 0;
    std::unique_lock<std::mutex> writer;
    if (!nested && db.writer_lock()) writer = std::unique_lock(*db.writer_lock());
    auto s = nested ? db.exec("SAVEPOINT lscgate_nested") : run_cached(db, "BEGIN IMMEDIATE");
    if (!s) return s.error();
    return SqliteTransaction(&db, nested, std::move(writer));
}

SqliteTransaction::~SqliteTransaction() {
    if (db_ == nullptr) return;
    (void)db_->exec(nested_ ? "ROLLBACK TO lscgate_nested; RELEASE lscgate_nested" : "ROLLBACK");
}

Status SqliteTransaction::commit() {
    if (db_ == nullptr) return fail("transaction already finished");
    auto s = nested_ ? db_->exec("RELEASE lscgate_nested") : run_cached(*db_, "COMMIT");
    if (s) {
        db_ = nullptr;
        if (writer_.owns_lock()) writer_.unlock();
    }
    return s;
}

}  // namespace lscgate
