#pragma once

// Owning wrappers for sqlite3 connections and prepared statements. Errors come
// back as values; nothing here throws.

#include "pki/result.h"

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace lscgate {

// Prepared statements are kept per connection and handed out again for the same
// SQL, so a hot path pays SQLite's parser once per connection, not per call.
// At most kStatementCacheCapacity idle statements are kept per connection (least
// recently used evicted): memory stays bounded even if a caller builds SQL text.
// Values always go through bind(), never into the SQL text.
class StatementCache;
inline constexpr std::size_t kStatementCacheCapacity = 64;

class SqliteStatement {
public:
    SqliteStatement() = default;
    SqliteStatement(sqlite3* db, sqlite3_stmt* stmt, std::shared_ptr<StatementCache> cache = nullptr)
        : db_(db), stmt_(stmt), cache_(std::move(cache)) {}
    SqliteStatement(SqliteStatement&& other) noexcept;
    SqliteStatement& operator=(SqliteStatement&& other) noexcept;
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;
    ~SqliteStatement();

    // Binding is 1-based like SQLite; values are copied (SQLITE_TRANSIENT).
    SqliteStatement& bind(int index, std::int64_t value);
    SqliteStatement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    SqliteStatement& bind(int index, std::string_view value);
    SqliteStatement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    SqliteStatement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
    SqliteStatement& bind(int index, std::nullopt_t);
    template <class T>
    SqliteStatement& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind(index, std::nullopt);
    }

    // Row → true, done → false, error → Error.
    Result<bool> step();
    Status run();  // step to completion, expecting no rows
    void reset();

    std::int64_t column_int(int col) const;
    std::optional<std::int64_t> column_optional_int(int col) const;
    std::string column_text(int col) const;
    std::optional<std::string> column_optional_text(int col) const;

private:
    void release() noexcept;
    sqlite3* db_ = nullptr;
    sqlite3_stmt* stmt_ = nullptr;
    std::shared_ptr<StatementCache> cache_;  // where the statement goes back to; null = finalize
};

class SqliteDatabase {
public:
    SqliteDatabase() = default;
    SqliteDatabase(SqliteDatabase&& other) noexcept
        : db_(other.db_), cache_(std::move(other.cache_)), writer_lock_(std::move(other.writer_lock_)) {
        other.db_ = nullptr;
    }
    SqliteDatabase& operator=(SqliteDatabase&& other) noexcept;
    SqliteDatabase(const SqliteDatabase&) = delete;
    SqliteDatabase& operator=(const SqliteDatabase&) = delete;
    ~SqliteDatabase();

    enum class Mode { ReadWriteCreate, ReadWrite, ReadOnly };
    // Every connection is opened with memory-mapped I/O off (PRAGMA mmap_size = 0):
    // a mapped file that another process truncates faults with SIGBUS.
    static Result<SqliteDatabase> open(const std::string& path, Mode mode, int busy_timeout_ms);

    Status exec(std::string_view sql);
    Result<SqliteStatement> prepare(std::string_view sql);
    std::int64_t last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
    int changes() const { return sqlite3_changes(db_); }
    std::string last_error() const { return db_ != nullptr ? sqlite3_errmsg(db_) : "database not open"; }
    // Connections of one process that write the same file share this lock, so
    // they queue in-process instead of sleeping in SQLite's busy handler.
    void set_writer_lock(std::shared_ptr<std::mutex> lock) { writer_lock_ = std::move(lock); }
    const std::shared_ptr<std::mutex>& writer_lock() const { return writer_lock_; }
    sqlite3* raw() const { return db_; }
    // Idle prepared statements kept for reuse (<= kStatementCacheCapacity); for tests.
    std::size_t cached_statements() const;

private:
    explicit SqliteDatabase(sqlite3* db);
    sqlite3* db_ = nullptr;
    std::shared_ptr<StatementCache> cache_;
    std::shared_ptr<std::mutex> writer_lock_;
};

// Puts a connection that writes into WAL mode with a small, self-limiting log:
// synchronous=NORMAL, an automatic (PASSIVE) checkpoint every
// kWalCheckpointPages pages instead of SQLite's 1000 (4 MiB), and the log file
// truncated back to kWalSizeLimitBytes when it restarts (journal_size_limit).
// Without this a registry on a small file system fills it with its own log.
// The WAL is persistent (SQLITE_FCNTL_PERSIST_WAL): -wal/-shm outlive the last
// connection, for readers that may not create them (the packaged layout).
// Errors: the file is not a database, or cannot be switched to WAL.
inline constexpr int kWalCheckpointPages = 128;
inline constexpr int kWalSizeLimitBytes = 512 * 1024;
Status configure_wal(SqliteDatabase& db);

// BEGIN IMMEDIATE on construction, ROLLBACK on destruction unless committed:
// an early return can never leave half of a multi-row change behind. Inside an
// open transaction it becomes a SAVEPOINT, so store methods compose into one
// larger all-or-nothing change (e.g. adding a list of devices).
class SqliteTransaction {
public:
    static Result<SqliteTransaction> begin(SqliteDatabase& db);
    SqliteTransaction(SqliteTransaction&& other) noexcept
        : db_(other.db_), nested_(other.nested_), writer_(std::move(other.writer_)) {
        other.db_ = nullptr;
    }
    SqliteTransaction(const SqliteTransaction&) = delete;
    SqliteTransaction& operator=(const SqliteTransaction&) = delete;
    SqliteTransaction& operator=(SqliteTransaction&&) = delete;
    ~SqliteTransaction();
    Status commit();

private:
    SqliteTransaction(SqliteDatabase* db, bool nested, std::unique_lock<std::mutex> writer)
        : db_(db), nested_(nested), writer_(std::move(writer)) {}
    SqliteDatabase* db_;
    bool nested_;
    std::unique_lock<std::mutex> writer_;  // member destructors run after ~SqliteTransaction: unlocked after ROLLBACK
};

}  // namespace lscgate
