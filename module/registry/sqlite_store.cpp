// The SQLite backend of the registry writer: opening and migrating the file,
// transactions, free space, devices, operations and the CAPF
// authentication lockout. Certificates are sqlite_store_certificates.cpp, the
// issued-LSC life cycle sqlite_store_lsc.cpp, the audit chain sqlite_store_audit.cpp.

#include "registry/sqlite_store.h"

#include "registry/store_schema.h"

#include <sys/statvfs.h>

#include <ctime>
#include <filesystem>

namespace lscgate {

namespace {

constexpr const char* kOperationColumns =
    "o.id, o.device_id, d.name, o.kind, o.auth_mode, o.auth_secret, o.key_type, o.rsa_bits, o.ec_curve, "
    "o.completes_by, o.state, o.last_error, o.created_at, o.updated_at, o.finished_at";

Result<Operation> read_operation(const SqliteStatement& st) {
    Operation op;
    op.id = st.column_int(0);
    op.device_id = st.column_int(1);
    op.device_name = st.column_text(2);
    auto kind = parse_operation_kind(st.column_text(3));
    auto mode = parse_auth_mode(st.column_text(4));
    auto state = parse_operation_state(st.column_text(10));
    if (!kind || !mode || !state) return fail("corrupt operation row " + std::to_string(op.id));
    op.request.kind = *kind;
    op.request.auth_mode = *mode;
    op.request.auth_secret_hash = st.column_text(5);
    auto spec = parse_key_spec(st.column_text(6) == "rsa" ? "rsa:" + std::to_string(st.column_int(7))
                                                          : "ec:" + st.column_text(8));
    if (!spec) return fail("corrupt key parameters in operation " + std::to_string(op.id));
    op.request.key = *spec;
    op.request.completes_by = st.column_optional_int(9);
    op.state = *state;
    op.last_error = st.column_text(11);
    op.created_at = st.column_int(12);
    op.updated_at = st.column_int(13);
    op.finished_at = st.column_optional_int(14);
    return op;
}

Device read_device(const SqliteStatement& st) {
    Device d;
    d.id = st.column_int(0);
    d.name = st.column_text(1);
    d.model = st.column_text(2);
    d.description = st.column_text(3);
    d.security_profile = st.column_text(4);
    d.auth_failures = static_cast<int>(st.column_int(5));
    d.locked_until = st.column_optional_int(6);
    d.created_at = st.column_int(7);
    d.updated_at = st.column_int(8);
    return d;
}

constexpr const char* kDeviceColumns =
    "id, name, model, description, security_profile, auth_failures, locked_until, created_at, updated_at";

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path, Store::OpenMode mode, int busy_timeout_ms) {
    if (mode == Store::OpenMode::ExistingReadWrite && !std::filesystem::exists(path))
        return fail("database " + path + " does not exist (run 'lscgate init' first)");
    auto db = SqliteDatabase::open(path, mode == Store::OpenMode::CreateAndMigrate ? SqliteDatabase::Mode::ReadWriteCreate
                                                                            : SqliteDatabase::Mode::ReadWrite,
                                   busy_timeout_ms);
    if (!db) return db.error();
    auto store = std::make_unique<SqliteStore>(std::move(*db));
    // A corrupt or foreign file fails here with SQLite's own words ("file is not a database").
    if (auto s = store->db_.exec("PRAGMA foreign_keys = ON"); !s) return fail(path + ": " + s.message());
    if (auto s = configure_wal(store->db_); !s) return Error{path + ": " + s.message(), s.kind()};
    auto ready = mode == Store::OpenMode::CreateAndMigrate ? store->migrate() : store->check_version();
    if (!ready) return fail(path + ": " + ready.message());
    return store;
}

namespace {
class SqliteBackendTransaction final : public BackendTransaction {
public:
    explicit SqliteBackendTransaction(SqliteTransaction tx) : tx_(std::move(tx)) {}
    Status commit() override { return tx_.commit(); }

private:
    SqliteTransaction tx_;
};
}  // namespace

Result<std::unique_ptr<BackendTransaction>> SqliteStore::begin() {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    return std::unique_ptr<BackendTransaction>(std::make_unique<SqliteBackendTransaction>(std::move(*tx)));
}

Status SqliteStore::check_free_space(std::uint64_t min_free_bytes) {
    const char* file = sqlite3_db_filename(db_.raw(), "main");
    if (file == nullptr || *file == '\0') return {};  // in-memory: nothing to fill
    struct statvfs fs {};
    if (::statvfs(std::filesystem::path(file).parent_path().c_str(), &fs) != 0) return {};  // unknown: let SQLite tell
    const std::uint64_t available = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
    if (available >= min_free_bytes) return {};
    return fail(ErrorKind::Unavailable, "only " + std::to_string(available / 1024) + " KiB free on the registry's file system (" +
                                            std::to_string(min_free_bytes / 1024) +
                                            " KiB needed); sessions resume when space returns");
}

int SqliteStore::schema_version() {
    auto st = db_.prepare("PRAGMA user_version");
    if (!st || !st->step().ok()) return -1;
    return static_cast<int>(st->column_int(0));
}

Status SqliteStore::migrate() {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    const int version = schema_version();
    if (version < 0) return fail("cannot read schema version: " + db_.last_error());
    if (version > static_cast<int>(kStoreMigrations.size()))
        return fail("database schema version " + std::to_string(version) + " is newer than this lscgate (" +
                    std::to_string(kStoreMigrations.size()) + ")");
    for (auto v = static_cast<std::size_t>(version); v < kStoreMigrations.size(); ++v) {
        if (auto s = db_.exec(kStoreMigrations[v]); !s)
            return fail("migration " + std::to_string(v + 1) + " failed: " + s.message());
        if (static_cast<int>(v) + 1 == kStoreAuditChainVersion) {
            // The rows already present join the chain before the append-only
            // trigger comes back (same transaction: all or nothing).
            if (auto s = chain_existing_audit_rows(); !s)
                return fail("migration " + std::to_string(v + 1) + " (chaining the audit rows) failed: " + s.message());
            if (auto s = db_.exec(kStoreAuditChainFinish); !s)
                return fail("migration " + std::to_string(v + 1) + " failed: " + s.message());
        }
        if (auto s = db_.exec("PRAGMA user_version = " + std::to_string(v + 1)); !s) return s;
    }
    return tx->commit();
}

Status SqliteStore::check_version() {
    const int version = schema_version();
    if (version < 0) return fail("cannot read schema version: " + db_.last_error());
    if (version == 0) return fail("not an lscgate database (schema version 0)");
    if (version < kStoreSchemaVersion) return migrate();
    if (version > kStoreSchemaVersion)
        return fail("database schema version " + std::to_string(version) + " is newer than this lscgate");
    return {};
}

Result<Device> SqliteStore::add_device(const std::string& name, const std::string& model, const std::string& description,
                                 const std::string& actor) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto existing = find_device(name);
    if (!existing) return existing.error();
    if (existing->has_value()) return fail("device " + name + " already exists");
    auto st = db_.prepare(
        "INSERT INTO devices(name, model, description, created_at, updated_at) VALUES(?,?,?,?,?)");
    if (!st) return st.error();
    const auto now = now_utc();
    st->bind(1, name).bind(2, model).bind(3, description).bind(4, now).bind(5, now);
    if (auto s = st->run(); !s) return s.error();
    if (auto s = audit(actor, "device.add", name, model.empty() ? "" : "model=" + model); !s) return s.error();
    auto found = find_device(name);
    if (!found) return found.error();
    if (auto s = tx->commit(); !s) return s.error();
    return **found;
}

Result<std::optional<Device>> SqliteStore::find_device(const std::string& name) {
    auto st = db_.prepare(std::string("SELECT ") + kDeviceColumns + " FROM devices WHERE name = ?");
    if (!st) return st.error();
    st->bind(1, name);
    auto r = st->step();
    if (!r) return r.error();
    if (!*r) return std::optional<Device>{};
    return std::optional<Device>{read_device(*st)};
}

Status SqliteStore::each_device(const RowFn<Device>& row) {
    auto st = db_.prepare(std::string("SELECT ") + kDeviceColumns + " FROM devices ORDER BY name");
    if (!st) return st.error();
    while (true) {
        auto r = st->step();
        if (!r) return r.error();
        if (!*r) return {};
        if (auto s = row(read_device(*st)); !s) return s;
    }
}

Status SqliteStore::remove_device(const std::string& name, const std::string& actor) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto st = db_.prepare("DELETE FROM devices WHERE name = ?");
    if (!st) return st.error();
    st->bind(1, name);
    if (auto s = st->run(); !s) return s;
    if (db_.changes() == 0) return fail("no such device: " + name);
    // Certificates stay (history, revocation); only the device and its operations go.
    if (auto s = audit(actor, "device.remove", name, ""); !s) return s;
    return tx->commit();
}

Result<Operation> SqliteStore::schedule_operation(const std::string& device, const OperationRequest& request,
                                            const std::string& actor) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto dev = find_device(device);
    if (!dev) return dev.error();
    if (!dev->has_value()) return fail("no such device: " + device + " (add it with 'lscgate device add')");
    const auto now = now_utc();
    auto cancel = db_.prepare(
        "UPDATE operations SET state='cancelled', last_error='replaced by a newer operation', updated_at=?, "
        "finished_at=? WHERE device_id=? AND state IN ('pending','in-progress')");
    if (!cancel) return cancel.error();
    cancel->bind(1, now).bind(2, now).bind(3, (*dev)->id);
    if (auto s = cancel->run(); !s) return s.error();
    auto st = db_.prepare(
        "INSERT INTO operations(device_id, kind, auth_mode, auth_secret, key_type, rsa_bits, ec_curve, completes_by, "
        "state, created_at, updated_at) VALUES(?,?,?,?,?,?,?,?,'pending',?,?)");
    if (!st) return st.error();
    st->bind(1, (*dev)->id)
        .bind(2, to_string(request.kind))
        .bind(3, to_string(request.auth_mode))
        .bind(4, request.auth_secret_hash)
        .bind(5, request.key.type == KeyType::Rsa ? "rsa" : "ec")
        .bind(6, request.key.rsa_bits)
        .bind(7, curve_name(request.key.curve))
        .bind(8, request.completes_by)
        .bind(9, now)
        .bind(10, now);
    if (auto s = st->run(); !s) return s.error();
    std::string detail = std::string("kind=") + std::string(to_string(request.kind)) +
                         " auth=" + std::string(to_string(request.auth_mode)) + " key=" + request.key.to_string();
    if (request.completes_by) detail += " by=" + format_utc(*request.completes_by);
    if (auto s = audit(actor, "operation.schedule", device, detail); !s) return s.error();
    auto op = open_operation((*dev)->id);
    if (!op) return op.error();
    if (auto s = tx->commit(); !s) return s.error();
    return **op;
}

Status SqliteStore::each_operation_query(const std::string& sql, const std::optional<std::string>& arg,
                                   const RowFn<Operation>& row) {
    auto st = db_.prepare(sql);
    if (!st) return st.error();
    if (arg) st->bind(1, *arg);
    while (true) {
        auto r = st->step();
        if (!r) return r.error();
        if (!*r) return {};
        auto op = read_operation(*st);
        if (!op) return op.error();
        if (auto s = row(*op); !s) return s;
    }
}

Result<std::optional<Operation>> SqliteStore::open_operation(std::int64_t device_id) {
    // The id is bound, never spliced into the text: one cached statement serves every device.
    static const std::string sql = std::string("SELECT ") + kOperationColumns +
                                   " FROM operations o JOIN devices d ON d.id = o.device_id WHERE o.device_id = ? "
                                   "AND o.state IN ('pending','in-progress')";
    auto st = db_.prepare(sql);
    if (!st) return st.error();
    st->bind(1, device_id);
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return std::optional<Operation>{};
    auto op = read_operation(*st);
    if (!op) return op.error();
    return std::optional<Operation>{std::move(*op)};
}

Status SqliteStore::each_operation(const std::optional<std::string>& device, bool include_finished,
                             const RowFn<Operation>& row) {
    // Four fixed texts at most; the device name is bound.
    std::string sql = std::string("SELECT ") + kOperationColumns +
                      " FROM operations o JOIN devices d ON d.id = o.device_id WHERE 1=1";
    if (device) sql += " AND d.name = ?";
    if (!include_finished) sql += " AND o.state IN ('pending','in-progress')";
    sql += " ORDER BY d.name, o.id";
    return each_operation_query(sql, device, row);
}

Status SqliteStore::cancel_operation(const std::string& device, const std::string& actor) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto dev = find_device(device);
    if (!dev) return dev.error();
    if (!dev->has_value()) return fail("no such device: " + device);
    const auto now = now_utc();
    auto st = db_.prepare(
        "UPDATE operations SET state='cancelled', last_error='cancelled by administrator', updated_at=?, "
        "finished_at=? WHERE device_id=? AND state IN ('pending','in-progress')");
    if (!st) return st.error();
    st->bind(1, now).bind(2, now).bind(3, (*dev)->id);
    if (auto s = st->run(); !s) return s;
    if (db_.changes() == 0) return fail("device " + device + " has no pending operation");
    if (auto s = audit(actor, "operation.cancel", device, ""); !s) return s;
    return tx->commit();
}

Status SqliteStore::set_operation_state(std::int64_t operation_id, OperationState state, const std::string& error) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    const bool finished = state != OperationState::Pending && state != OperationState::InProgress;
    auto st = db_.prepare(
        "UPDATE operations SET state=?, last_error=?, updated_at=?, finished_at=? WHERE id=? "
        "AND state IN ('pending','in-progress')");
    if (!st) return st.error();
    const auto now = now_utc();
    st->bind(1, to_string(state)).bind(2, error).bind(3, now);
    if (finished) st->bind(4, now);
    else st->bind(4, std::nullopt);
    st->bind(5, operation_id);
    if (auto s = st->run(); !s) return s;
    const int changed = db_.changes();
    if (auto s = tx->commit(); !s) return s;
    if (changed == 0) return fail("operation " + std::to_string(operation_id) + " is no longer open");
    return {};
}

Result<bool> SqliteStore::claim_operation(std::int64_t operation_id, UnixTime now, int stale_after_seconds,
                                          const std::string& claimer) {
    // One conditional UPDATE under SQLite's single writer lock: a second claimer
    // (another connection, another lscgate serve on this file) runs after the
    // first committed, finds the row in-progress and fresh, and changes nothing.
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto st = db_.prepare(
        "UPDATE operations SET state='in-progress', last_error=?, updated_at=?, finished_at=NULL WHERE id=? AND "
        "(state='pending' OR (state='in-progress' AND (updated_at <= ? OR last_error = ?)))");
    if (!st) return st.error();
    st->bind(1, claimer).bind(2, now).bind(3, operation_id).bind(4, now - stale_after_seconds).bind(5, claimer);
    if (auto s = st->run(); !s) return s.error();
    const bool claimed = db_.changes() == 1;
    if (auto s = tx->commit(); !s) return s.error();
    return claimed;
}

Result<int> SqliteStore::expire_operations(UnixTime now) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto st = db_.prepare(
        "UPDATE operations SET state='timed-out', last_error='completes-by deadline passed', updated_at=?, "
        "finished_at=? WHERE state='pending' AND completes_by IS NOT NULL AND completes_by < ?");
    if (!st) return st.error();
    st->bind(1, now).bind(2, now).bind(3, now);
    if (auto s = st->run(); !s) return s.error();
    const int n = db_.changes();
    if (auto s = tx->commit(); !s) return s.error();
    return n;
}

Result<bool> SqliteStore::reserve_auth_attempt(std::int64_t device_id, int threshold, int lock_seconds) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    const auto now = now_utc();
    // An expired lock starts a fresh count.
    auto st = db_.prepare(
        "UPDATE devices SET updated_at = ?, "
        "auth_failures = CASE WHEN locked_until IS NOT NULL AND locked_until <= ? THEN 1 ELSE auth_failures + 1 END, "
        "locked_until = CASE WHEN locked_until IS NOT NULL AND locked_until <= ? THEN NULL "
        "                    WHEN auth_failures + 1 >= ? THEN ? ELSE locked_until END "
        "WHERE id = ? AND (locked_until IS NULL OR locked_until <= ?)");
    if (!st) return st.error();
    st->bind(1, now).bind(2, now).bind(3, now).bind(4, threshold).bind(5, now + lock_seconds).bind(6, device_id).bind(7, now);
    if (auto s = st->run(); !s) return s.error();
    if (db_.changes() == 0) return false;  // locked out (or no such device): no attempt
    auto q = db_.prepare("SELECT auth_failures, name FROM devices WHERE id = ?");
    if (!q) return q.error();
    q->bind(1, device_id);
    if (auto r = q->step(); !r || !*r) return fail("device vanished while counting an attempt");
    const bool reached = q->column_int(0) == threshold;
    const std::string name = q->column_text(1);
    q->reset();
    if (reached) {
        // This attempt still runs; from now on none does until the lock expires.
        if (auto s = audit("capf", "device.lockout", name,
                           "locked for " + std::to_string(lock_seconds) + "s after " + std::to_string(threshold) +
                               " authentication attempts without success");
            !s)
            return s.error();
    }
    if (auto s = tx->commit(); !s) return s.error();
    return true;
}

Status SqliteStore::release_auth_attempt(std::int64_t device_id, int threshold) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    // One statement: the count drops by one, and a lock is lifted when the count
    // falls below the threshold again (the lock was reached only through this
    // attempt, which never happened as far as the phone is concerned).
    auto st = db_.prepare(
        "UPDATE devices SET updated_at = ?, auth_failures = auth_failures - 1, "
        "locked_until = CASE WHEN auth_failures - 1 < ? THEN NULL ELSE locked_until END "
        "WHERE id = ? AND auth_failures > 0");
    if (!st) return st.error();
    st->bind(1, now_utc()).bind(2, threshold).bind(3, device_id);
    if (auto s = st->run(); !s) return s;
    return tx->commit();
}

Status SqliteStore::clear_auth_failures(std::int64_t device_id) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto st = db_.prepare("UPDATE devices SET auth_failures = 0, locked_until = NULL WHERE id = ? AND "
                          "(auth_failures != 0 OR locked_until IS NOT NULL)");
    if (!st) return st.error();
    st->bind(1, device_id);
    if (auto s = st->run(); !s) return s;
    return tx->commit();
}

}  // namespace lscgate
