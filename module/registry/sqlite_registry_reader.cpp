#include "registry/sqlite_registry_reader.h"

#include "pki/certificate.h"
#include "registry/registry_files.h"
#include "registry/registry_watch.h"
#include "registry/sqlite_handles.h"
#include "registry/sqlite_store.h"

#include <array>
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <shared_mutex>

namespace lscgate {
namespace {

constexpr const char* kColumns =
    "device_name, kind, status, serial, issuer_oneline, fingerprint, not_before, not_after, "
    "CASE WHEN status = 'unconfirmed' THEN EXISTS(SELECT 1 FROM certificates a WHERE a.device_name = "
    "certificates.device_name AND a.kind = 'lsc' AND a.status = 'active' AND a.id > certificates.id) ELSE 0 END";

Result<RegisteredCertificate> read_row(const SqliteStatement& st) {
    RegisteredCertificate r;
    r.device_name = st.column_text(0);
    auto kind = parse_certificate_kind(st.column_text(1));
    auto status = parse_certificate_status(st.column_text(2));
    if (!kind || !status) return fail("corrupt certificate row for " + r.device_name);
    r.kind = *kind;
    r.status = *status;
    r.serial_hex = st.column_text(3);
    r.issuer_oneline = st.column_text(4);
    r.fingerprint = st.column_text(5);
    r.not_before = st.column_int(6);
    r.not_after = st.column_int(7);
    r.older_than_active = st.column_int(8) != 0;
    return r;
}

Result<std::optional<RegisteredCertificate>> first_row(SqliteStatement& st) {
    auto row = st.step();
    if (!row) return row.error();
    if (!*row) return std::optional<RegisteredCertificate>{};
    auto r = read_row(st);
    if (!r) return r.error();
    return std::optional<RegisteredCertificate>{std::move(*r)};
}

struct Remembered {
    std::string key;
    std::optional<RegisteredCertificate> row;
    std::int64_t version = -2;     // data_version seen before the row was read (per connection)
    std::uint64_t generation = 0;  // RegistryWatch generation before the row was read (per pool)
};

// How a call may trust a remembered row: by the watch's generation (nothing
// touched the files since it was read), else only after PRAGMA data_version.
struct Freshness {
    bool watched = false;
    std::uint64_t generation = 0;
};

// Rows remembered for the whole pool while the registry watch vouches for them:
// one table for every connection (the generation is the pool's, unlike
// data_version), in shards so that parallel lookups rarely share a mutex, two
// ways per set so that two busy devices hashed alike do not evict each other.
// 4096 rows: a few MB at most, the devices a busy RADIUS node sees again soon.
class SharedRows {
public:
    using Row = std::optional<RegisteredCertificate>;
    /// The row remembered under `key` if it was read at `generation`.
    std::optional<Row> find(const std::string& key, std::size_t hash, std::uint64_t generation) {
        Shard& sh = shards_[hash % kShards];
        std::lock_guard lock(sh.mutex);
        Set& set = sh.sets[(hash / kShards) % kSets];
        for (std::size_t i = 0; i < 2; ++i) {
            const Remembered& slot = set.ways[i];
            if (slot.generation == generation && slot.key == key) {
                set.recent = i;
                return slot.row;
            }
        }
        return std::nullopt;
    }
    void store(std::string key, std::size_t hash, const Row& row, std::uint64_t generation) {
        Shard& sh = shards_[hash % kShards];
        std::lock_guard lock(sh.mutex);
        Set& set = sh.sets[(hash / kShards) % kSets];
        // The way holding this key, else the one not used last.
        std::size_t i = set.ways[0].key == key ? 0 : set.ways[1].key == key ? 1 : 1 - set.recent;
        Remembered& slot = set.ways[i];
        slot.key = std::move(key);
        slot.row = row;
        slot.generation = generation;
        set.recent = i;
    }

private:
    static constexpr std::size_t kShards = 16, kSets = 128;
    struct Set {
        std::array<Remembered, 2> ways;
        std::size_t recent = 0;  // the way found or stored last
    };
    struct Shard {
        std::mutex mutex;
        std::array<Set, kSets> sets;
    };
    std::array<Shard, kShards> shards_;
};

struct Connection {
    std::mutex mutex;
    SqliteDatabase db;
    std::int64_t version = -1;  // the last data_version this connection saw
    std::array<Remembered, 512> remembered;  // without the watch: trusted by data_version
};

Result<std::unique_ptr<Connection>> open_connection(const std::string& path) {
    auto db = SqliteDatabase::open(path, SqliteDatabase::Mode::ReadOnly, 2000);
    if (!db) return db.error();
    // Before SQLite reads a page: a file cut short is named as such.
    if (auto s = check_registry_header(*db, path); !s) return s.error();
    // Checking the schema also proves the file is a readable lscgate registry.
    auto v = db->prepare("PRAGMA user_version");
    if (!v) return fail(path + ": " + v.message());
    auto row = v->step();
    if (!row) return fail(path + ": " + row.message());
    if (!*row) return fail(path + ": cannot read the schema version");
    const auto version = v->column_int(0);
    if (version < 1 || version > kStoreSchemaVersion)
        return fail(path + ": schema version " + std::to_string(version) + " is not one this module understands");
    v->reset();
    // A generous page cache: lookups stay in memory (reads are pread(), never mmap).
    if (auto s = db->exec("PRAGMA cache_size = -16384"); !s) return fail(path + ": " + s.message());
    auto c = std::make_unique<Connection>();
    c->db = std::move(*db);
    return c;
}

}  // namespace

// Every read connection this process has to one registry file (see the header
// for why there is only one pool per file).
class SqliteRegistryReader::Pool {
public:
    Pool(std::string path, std::string key, std::size_t size)
        : path_(std::move(path)), key_(std::move(key)), size_(std::max<std::size_t>(1, size)) {}
    const std::string& key() const { return key_; }
    SharedRows& rows() { return rows_; }

    // Runs fn(Connection&, Freshness) on a connection proven to read the files the
    // path names now; otherwise reopens, or fails with the cause. The proof: the
    // watch saw nothing since (one poll()), else three stat() calls.
    template <class T, class F>
    Result<T> use(F&& fn) {
        std::uint64_t generation = 0;
        if (watch_ && watch_->quiet(generation)) {
            std::shared_lock lock(state_);
            if (broken_.empty() && !connections_.empty()) return run<T>(fn, Freshness{true, generation});
        }
        // Held until the files were checked (and reopened): quiet() is false meanwhile.
        std::optional<RegistryWatch::Settling> settling;
        if (watch_) settling.emplace(watch_->settle());
        const bool watched = watch_ && !watch_->blind();
        const Freshness fresh{watched, watched ? watch_->generation() : 0};
        const RegistryFiles now = RegistryFiles::of(path_);
        {
            std::shared_lock lock(state_);
            if (current(now)) return run<T>(fn, fresh);
        }
        if (auto s = reopen(); !s) return s.error();
        std::shared_lock lock(state_);
        if (!broken_.empty()) return fail(ErrorKind::Unavailable, broken_);
        if (connections_.empty()) return fail(ErrorKind::Unavailable, "registry " + path_ + " is being reopened");
        return run<T>(fn, fresh);
    }

    Status open_initial() {
        std::unique_lock lock(state_);
        // Before the connections: a change while they open is queued, not missed.
        watch_ = RegistryWatch::open(path_);
        auto s = open_all();
        if (!s) connections_.clear();
        return s;
    }

    void add_log(LogSink log) {
        std::lock_guard lock(log_mutex_);
        if (!log_ && log) log_ = std::move(log);
    }

private:
    bool current(const RegistryFiles& now) {
        if (!broken_.empty() || connections_.empty()) return false;
        const RegistryFiles seen = largest();
        if (compare_registry_files(opened_, seen, now).change != FilesChange::Same) return false;
        raise(largest_db_, seen.db_size, now.db_size);
        raise(largest_shm_, seen.shm_size, now.shm_size);
        return true;
    }
    RegistryFiles largest() const {
        RegistryFiles f;
        f.db_size = largest_db_.load(std::memory_order_relaxed);
        f.shm_size = largest_shm_.load(std::memory_order_relaxed);
        return f;
    }
    static void raise(std::atomic<std::int64_t>& value, std::int64_t seen, std::int64_t now) {
        while (now > seen && !value.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
        }
    }

    template <class T, class F>
    Result<T> run(F& fn, Freshness fresh) {
        const std::size_t n = connections_.size();
        const std::size_t start = next_.fetch_add(1, std::memory_order_relaxed);
        // Prefer an idle connection; wait on one only when all are busy.
        Connection* chosen = connections_[start % n].get();
        for (std::size_t i = 0; i < n; ++i) {
            Connection& c = *connections_[(start + i) % n];
            if (c.mutex.try_lock()) {
                c.mutex.unlock();
                chosen = &c;
                break;
            }
        }
        std::lock_guard lock(chosen->mutex);
        return fn(*chosen, fresh);
    }

    // Opens every connection afresh. Caller holds state_ exclusively.
    Status open_all() {
        const RegistryFiles before = RegistryFiles::of(path_);
        if (!before.db.present) return fail(ErrorKind::Unavailable, "registry " + path_ + " does not exist");
        for (std::size_t i = 0; i < size_; ++i) {
            auto c = open_connection(path_);
            if (!c) return c.error();
            connections_.push_back(std::move(*c));
        }
        // The connections hold -wal/-shm now (a read opens them): remember those,
        // with their handles for the time nothing holds them (reopen).
        const RegistryFiles after = RegistryFiles::of(path_, true);
        if (after.db != before.db) return fail(ErrorKind::Unavailable, path_ + " was replaced while it was being opened");
        opened_ = after;
        largest_db_.store(after.db_size);
        largest_shm_.store(after.shm_size);
        return {};
    }

    Status reopen() {
        std::unique_lock lock(state_);  // waits for requests still on the old connections
        // With handles: while broken, nothing holds the old files, and a
        // -wal/-shm made anew may come back under the old inode number.
        const RegistryFiles now = RegistryFiles::of(path_, true);
        if (current(now)) return {};  // another thread reopened meanwhile
        if (!broken_.empty() && now == broken_at_) return fail(ErrorKind::Unavailable, broken_);  // unchanged since
        // Against the last files read successfully, even while refusing.
        FilesVerdict verdict = compare_registry_files(opened_, largest(), now);
        if (verdict.change == FilesChange::Same) verdict = {FilesChange::Reopen, "its files changed"};
        // Close every connection before opening any: SQLite would hand a new
        // connection to the same inode the WAL index the old ones still map.
        connections_.clear();
        broken_at_ = now;
        if (verdict.change == FilesChange::Mispaired) return broke("registry " + path_ + ": " + verdict.cause);
        if (auto s = open_all(); !s) {
            connections_.clear();
            return broke("registry " + path_ + ": " + verdict.cause + "; cannot reopen it: " + s.message());
        }
        const bool was_broken = !broken_.empty();
        broken_.clear();
        log("registry " + path_ + (was_broken ? ": readable again (" : ": ") + verdict.cause +
            (was_broken ? "), reopened" : "; reopened"));
        return {};
    }

    Status broke(std::string cause) {
        if (cause != broken_) log(cause + " - refusing every request until it changes");
        broken_ = std::move(cause);
        return fail(ErrorKind::Unavailable, broken_);
    }

    void log(const std::string& message) {
        std::lock_guard lock(log_mutex_);
        if (log_) log_(message);
    }

    const std::string path_;
    const std::string key_;  // canonical path: the process-wide pool map's key
    const std::size_t size_;
    std::shared_mutex state_;  // shared: a call using a connection; exclusive: (re)opening
    std::vector<std::unique_ptr<Connection>> connections_;
    RegistryFiles opened_;
    std::atomic<std::int64_t> largest_db_{0};   // the largest sizes seen since opening
    std::atomic<std::int64_t> largest_shm_{0};
    std::string broken_;       // non-empty: why nothing can be read (fail closed)
    RegistryFiles broken_at_;  // the files when it broke: retried once they change
    std::atomic<std::size_t> next_{0};
    std::unique_ptr<RegistryWatch> watch_;  // null: no inotify, or a symbolic link on the path
    SharedRows rows_;                       // remembered while the watch vouches for them
    std::mutex log_mutex_;
    LogSink log_;
};

namespace {

// One pool per registry file per process (keyed by its canonical path).
std::mutex g_pools_mutex;
std::map<std::string, std::weak_ptr<SqliteRegistryReader::Pool>>& pools() {
    static std::map<std::string, std::weak_ptr<SqliteRegistryReader::Pool>> map;
    return map;
}

}  // namespace

Result<std::unique_ptr<RegistryReader>> SqliteRegistryReader::open(const std::string& path, std::size_t connections,
                                                             LogSink log) {
    // SQLite's memory statistics take a process-wide mutex on every allocation,
    // which serialises parallel readers. This only works before SQLite is first
    // used in the process (otherwise it is refused, harmlessly).
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return fail("registry " + path + " does not exist");
    const std::string key = std::filesystem::weakly_canonical(path, ec).string();
    std::lock_guard lock(g_pools_mutex);
    if (auto existing = pools()[key].lock()) {
        existing->add_log(std::move(log));
        return std::unique_ptr<RegistryReader>(new SqliteRegistryReader(std::move(existing)));
    }
    auto pool = std::make_shared<Pool>(path, key, connections);
    if (auto s = pool->open_initial(); !s) return s.error();
    pool->add_log(std::move(log));
    pools()[key] = pool;
    return std::unique_ptr<RegistryReader>(new SqliteRegistryReader(std::move(pool)));
}

SqliteRegistryReader::~SqliteRegistryReader() {
    std::lock_guard lock(g_pools_mutex);
    // Forget the entry once its last reader is gone (readers hold the only owning pointers).
    if (pool_.use_count() == 1) pools().erase(pool_->key());
    pool_.reset();
}

Result<std::optional<RegisteredCertificate>> SqliteRegistryReader::lookup(std::string key, const std::string& sql,
                                                                    const std::string& a, const std::string* b) {
    using Row = std::optional<RegisteredCertificate>;
    return pool_->use<Row>([&](Connection& c, Freshness fresh) -> Result<Row> {
        const std::size_t hash = std::hash<std::string>{}(key);
        SharedRows& rows = pool_->rows();
        // Nothing touched the files since before the row was read: it is what a query would return.
        if (fresh.watched)
            if (auto row = rows.find(key, hash, fresh.generation)) return std::move(*row);
        Remembered& slot = c.remembered[hash % c.remembered.size()];
        if (!fresh.watched && slot.key == key) {
            auto v = c.db.prepare("PRAGMA data_version");
            if (!v) return v.error();
            auto vrow = v->step();
            if (!vrow) return vrow.error();
            if (!*vrow) return fail("PRAGMA data_version returned nothing");
            c.version = v->column_int(0);
            // Nothing committed since before the row was read: it is what a query would return.
            if (slot.version == c.version) return slot.row;
        }
        // Tag with the last version seen *before* this read: if anything commits in
        // between, the tag no longer matches and the row is simply read again.
        const std::int64_t tag = c.version;
        auto st = c.db.prepare(sql);
        if (!st) return st.error();
        st->bind(1, a);
        if (b != nullptr) st->bind(2, *b);
        auto row = first_row(*st);
        if (!row) return row.error();
        if (fresh.watched) {
            rows.store(std::move(key), hash, *row, fresh.generation);
            return row;
        }
        slot.key = std::move(key);
        slot.row = *row;
        slot.version = tag;
        return row;
    });
}

Result<std::optional<RegisteredCertificate>> SqliteRegistryReader::by_serial(const std::string& serial_hex,
                                                                             const std::string& issuer_oneline,
                                                                             UnixTime /*now*/) {
    static const std::string sql = std::string("SELECT ") + kColumns +
                                   " FROM certificates WHERE serial = ? AND issuer_oneline = ? AND kind = 'lsc' AND status != 'fetched' "
                                   "ORDER BY (status = 'active') DESC, id DESC LIMIT 1";
    return lookup("s\n" + serial_hex + "\n" + issuer_oneline, sql, serial_hex, &issuer_oneline);
}

Result<std::optional<RegisteredCertificate>> SqliteRegistryReader::current_lsc(const std::string& device,
                                                                               UnixTime /*now*/) {
    static const std::string sql = std::string("SELECT ") + kColumns +
                                   " FROM certificates WHERE device_name = ? AND kind = 'lsc' "
                                   "ORDER BY (status = 'active') DESC, id DESC LIMIT 1";
    return lookup("d\n" + device, sql, device, nullptr);
}

Result<std::string> SqliteRegistryReader::capf_signature() {
    return pool_->use<std::string>([](Connection& c, Freshness) -> Result<std::string> {
        auto st = c.db.prepare(
            "SELECT coalesce(group_concat(fingerprint || ':' || status, ','), '') FROM "
            "(SELECT fingerprint, status FROM capf_certificates ORDER BY id)");
        if (!st) return st.error();
        auto row = st->step();
        if (!row) return row.error();
        return *row ? st->column_text(0) : std::string();
    });
}

Result<std::vector<X509Ptr>> SqliteRegistryReader::trusted_capf_certificates() {
    return pool_->use<std::vector<X509Ptr>>([](Connection& c, Freshness) -> Result<std::vector<X509Ptr>> {
        auto st = c.db.prepare("SELECT pem FROM capf_certificates WHERE status IN ('current','previous') ORDER BY id");
        if (!st) return st.error();
        std::vector<X509Ptr> out;
        while (true) {
            auto row = st->step();
            if (!row) return row.error();
            if (!*row) break;
            auto cert = parse_certificate_pem(st->column_text(0));
            if (!cert) return fail("corrupt CAPF certificate in the registry: " + cert.message());
            out.push_back(std::move(*cert));
        }
        return out;
    });
}

}  // namespace lscgate
