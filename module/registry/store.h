#pragma once

// The registry writer: devices, operations, certificates, CAPF certificates
// and the audit trail. The CAPF server and the CLI write through it; RADIUS
// reads through registry_reader.h. One Store is one connection and must be used
// by one thread at a time; open one per thread.
//
// The database setting picks the engine (database_kind.h): a file path is an
// SQLite file (WAL, busy timeout; the embedded default), a libpq URI or
// conninfo is a PostgreSQL registry shared by several RADIUS nodes. Each engine
// implements StoreBackend (store_backend.h); what is the same on every engine
// (lists, bulk writes in chunks) is written here once.

#include "registry/audit_chain.h"
#include "registry/records.h"
#include "registry/store_backend.h"

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lscgate {

// Rows per transaction in bulk writes. SQLite has one writer at a time and every
// other writer (the CAPF server recording an LSC) waits at most its busy timeout
// (5 s): 500 rows commit in milliseconds, 60 000 in one transaction took seconds.
inline constexpr std::size_t kBulkChunkRows = 500;

// What a bulk write did: the rows committed (in order), and the error that
// stopped it, if any. Rows before the error stay committed; none after it is written.
template <class T>
struct BulkResult {
    std::vector<T> done;
    std::optional<Error> error;
    std::optional<std::size_t> failed_at;  ///< the input item the error is about, when it is one item's
};

/// A transaction over several Store calls: rolled back when destroyed
/// uncommitted, so an early return never leaves half of a change behind.
class StoreTransaction {
public:
    explicit StoreTransaction(std::unique_ptr<BackendTransaction> tx) : tx_(std::move(tx)) {}
    Status commit() { return tx_->commit(); }

private:
    std::unique_ptr<BackendTransaction> tx_;
};

class Store {
public:
    template <class T>
    using RowFn = StoreBackend::RowFn<T>;

    enum class OpenMode { CreateAndMigrate, ExistingReadWrite };
    /// Opens the registry named by `database` (a file path or a PostgreSQL
    /// URI/conninfo). CreateAndMigrate creates the schema (lscgate init);
    /// ExistingReadWrite refuses a missing registry. `busy_timeout_ms`: how long
    /// a write waits for another writer's lock. Errors: missing file, not a
    /// registry, a newer schema, an unreachable server (kind Unavailable).
    static Result<Store> open(const std::string& database, OpenMode mode = OpenMode::ExistingReadWrite,
                              int busy_timeout_ms = 5000);
    explicit Store(std::unique_ptr<StoreBackend> backend) : impl_(std::move(backend)) {}

    int schema_version() { return impl_->schema_version(); }
    /// Several calls as one all-or-nothing change (nested calls become savepoints).
    Result<StoreTransaction> transaction();

    // Devices
    Result<Device> add_device(const std::string& name, const std::string& model, const std::string& description,
                              const std::string& actor) {
        return impl_->add_device(name, model, description, actor);
    }
    Result<std::optional<Device>> find_device(const std::string& name) { return impl_->find_device(name); }
    Result<std::vector<Device>> list_devices();
    Status each_device(const RowFn<Device>& row) { return impl_->each_device(row); }  // ordered by name
    Status remove_device(const std::string& name, const std::string& actor) { return impl_->remove_device(name, actor); }
    // Removes many devices in transactions of `chunk` (their certificates stay),
    // so a long list never holds the writer lock for seconds. Every name is
    // checked first (an unknown one removes none, failed_at names it); a later
    // error (I/O) stops at its chunk, earlier chunks staying removed.
    BulkResult<std::string> remove_devices(const std::vector<std::string>& names, const std::string& actor,
                                           std::size_t chunk = kBulkChunkRows);
    // Adds many devices in transactions of `chunk` rows. Names must be normalized.
    // Checked first, before anything is written: a duplicate in the list or a name
    // already registered adds none. A failure after that (another writer added one
    // meanwhile, disk full) stops at that chunk: earlier chunks stay added.
    BulkResult<Device> add_devices(const std::vector<std::string>& names, const std::string& model,
                                   const std::string& description, const std::string& actor,
                                   std::size_t chunk = kBulkChunkRows);
    /// The same, each device with its own model and description (a BAT export's
    /// Device Type and Description columns).
    struct NewDevice {
        std::string name;
        std::string model;
        std::string description;
    };
    BulkResult<Device> add_devices(const std::vector<NewDevice>& devices, const std::string& actor,
                                   std::size_t chunk = kBulkChunkRows);

    // Operations. Scheduling replaces (cancels) any operation still open for the device.
    Result<Operation> schedule_operation(const std::string& device, const OperationRequest& request,
                                         const std::string& actor) {
        return impl_->schedule_operation(device, request, actor);
    }
    // Schedules (device, request) pairs in transactions of `chunk` rows; every
    // device is checked to exist before anything is written (an unknown one
    // schedules none). Requests carry their secret already hashed: nothing slow
    // runs while the writer lock is held.
    BulkResult<Operation> schedule_operations(const std::vector<std::pair<std::string, OperationRequest>>& items,
                                              const std::string& actor, std::size_t chunk = kBulkChunkRows);
    Result<std::optional<Operation>> open_operation(std::int64_t device_id) { return impl_->open_operation(device_id); }
    Result<std::vector<Operation>> list_operations(const std::optional<std::string>& device, bool include_finished);
    Status each_operation(const std::optional<std::string>& device, bool include_finished, const RowFn<Operation>& row) {
        return impl_->each_operation(device, include_finished, row);
    }
    Status cancel_operation(const std::string& device, const std::string& actor) {
        return impl_->cancel_operation(device, actor);
    }
    // cancel_operation for many devices, in transactions of `chunk` as
    // remove_devices; every device must have an open operation (checked first).
    BulkResult<std::string> cancel_operations(const std::vector<std::string>& devices, const std::string& actor,
                                              std::size_t chunk = kBulkChunkRows);
    Status set_operation_state(std::int64_t operation_id, OperationState state, const std::string& error) {
        return impl_->set_operation_state(operation_id, state, error);
    }
    /// Takes operation `operation_id` for one CAPF session, atomically: pending →
    /// in-progress in one conditional UPDATE, so of two sessions racing for it
    /// (two `lscgate serve` on one registry, or two connections of one phone)
    /// exactly one gets true and may issue; the other gets false and must not
    /// (issue 8 item 6). False also when the operation finished or was cancelled
    /// meanwhile. An in-progress one whose last change is at least
    /// `stale_after_seconds` before `now` is taken over: its session died with its
    /// server (SIGKILL) and would otherwise block the device until an admin acts.
    /// `claimer` names the claiming process; it is written to the operation's
    /// last_error (shown by `op list`), and an in-progress operation whose
    /// last_error is exactly `claimer` is taken over at once: the caller (one
    /// process) knows none of its own sessions holds it any more (one that could
    /// not hand it back, e.g. while the registry was locked).
    /// On PostgreSQL the database server's clock (statement_timestamp()) stamps
    /// the claim and judges its staleness, and `now` is not used: the CAPF
    /// servers sharing the registry may disagree about the time, and one whose
    /// clock runs ahead must not take over another's live session. On SQLite (one
    /// host) `now` is the time.
    /// Errors: the registry's (kind Unavailable when it is locked or unreachable).
    Result<bool> claim_operation(std::int64_t operation_id, UnixTime now, int stale_after_seconds,
                                 const std::string& claimer) {
        return impl_->claim_operation(operation_id, now, stale_after_seconds, claimer);
    }
    // Pending operations whose deadline passed become timed-out; returns how many.
    Result<int> expire_operations(UnixTime now) { return impl_->expire_operations(now); }

    // Authentication attempts and lockout. An attempt is counted as a failure
    // *before* it is checked, atomically with the lockout test, so parallel
    // sessions cannot all slip in under the limit; a success clears the count.
    // Returns false when the device is locked out (the attempt must not run).
    Result<bool> reserve_auth_attempt(std::int64_t device_id, int threshold, int lock_seconds) {
        return impl_->reserve_auth_attempt(device_id, threshold, lock_seconds);
    }
    /// Gives back one attempt counted by reserve_auth_attempt when the check could not
    /// be made for a reason on our side (registry read error, missing configuration,
    /// OpenSSL failure): the count drops by one, atomically, and a lock that count had
    /// reached is lifted. `threshold` is the lockout_failures the reservation used.
    Status release_auth_attempt(std::int64_t device_id, int threshold) {
        return impl_->release_auth_attempt(device_id, threshold);
    }
    Status clear_auth_failures(std::int64_t device_id) { return impl_->clear_auth_failures(device_id); }

    // Outcomes of a CAPF session, each one transaction.
    //
    // An issued LSC goes through the registry in two steps around the phone's
    // answer: record_issued_lsc (status unconfirmed) *before* STORE_CERTIFICATE_REQUEST
    // is sent, so whatever happens next (SIGKILL, a locked or full database) the
    // registry knows every LSC a phone can hold; then confirm_issued_lsc when the
    // phone answers "stored": it becomes active, every other active or unconfirmed
    // LSC of the device becomes superseded, the operation succeeds. If the phone
    // refuses it, or it never left the server, discard_unconfirmed_lsc deletes the row.
    Result<CertificateRecord> record_issued_lsc(const Operation& op, const X509* cert) {
        return impl_->record_issued_lsc(op, cert);
    }
    Result<CertificateRecord> confirm_issued_lsc(const Operation& op, std::int64_t certificate_id) {
        return impl_->confirm_issued_lsc(op, certificate_id);
    }
    Status discard_unconfirmed_lsc(std::int64_t certificate_id, const std::string& why) {
        return impl_->discard_unconfirmed_lsc(certificate_id, why);
    }
    // A phone proved possession of its unconfirmed LSC (an LSC-authenticated CAPF
    // session, module/capf/PROTOCOL.md §7.3): it is the phone's certificate, so it
    // becomes active like a confirmed one. Refused when the device has a newer
    // active LSC (then the unconfirmed one is stale, and becomes superseded).
    Result<CertificateRecord> confirm_lsc_by_possession(std::int64_t certificate_id) {
        return impl_->confirm_lsc_by_possession(certificate_id);
    }
    // Both steps at once (tests, imports): recorded and active in one transaction.
    Result<CertificateRecord> commit_issued_lsc(const Operation& op, const X509* cert) {
        return impl_->commit_issued_lsc(op, cert);
    }
    Status commit_fetched_certificate(const Operation& op, const X509* cert, CertificateKind kind) {
        return impl_->commit_fetched_certificate(op, cert, kind);
    }
    Status commit_deleted_lsc(const Operation& op) { return impl_->commit_deleted_lsc(op); }

    // Revocation: the device's active LSC, or any certificate by serial (hex).
    // Returns what was revoked; takes effect on the RADIUS side at the next request.
    // By device, its unconfirmed LSCs are revoked with the active one (RADIUS would
    // otherwise accept them); the active one is returned, or the newest unconfirmed.
    Result<CertificateRecord> revoke_active_lsc(const std::string& device, const std::string& reason,
                                                const std::string& actor) {
        return impl_->revoke_active_lsc(device, reason, actor);
    }
    Result<CertificateRecord> revoke_serial(const std::string& serial_hex, const std::string& reason,
                                            const std::string& actor) {
        return impl_->revoke_serial(serial_hex, reason, actor);
    }

    // Certificates
    Result<std::vector<CertificateRecord>> list_certificates(const std::optional<std::string>& device);
    Status each_certificate(const std::optional<std::string>& device, const RowFn<CertificateRecord>& row) {
        return impl_->each_certificate(device, row);
    }
    Result<std::optional<CertificateRecord>> find_certificate_by_fingerprint(const std::string& sha256_hex) {
        return impl_->find_certificate_by_fingerprint(sha256_hex);
    }
    Result<std::optional<CertificateRecord>> active_lsc(const std::string& device) { return impl_->active_lsc(device); }

    // CAPF certificates: adding a current one moves the old current to previous.
    Status add_capf_certificate(const X509* cert, const std::string& actor) {
        return impl_->add_capf_certificate(cert, actor);
    }
    // Stops trusting a previous CAPF certificate (its LSCs become foreign to
    // RADIUS and can no longer re-key). The current one cannot be retired.
    Result<CapfCertificateRecord> retire_capf_certificate(const std::string& sha256_prefix, const std::string& actor) {
        return impl_->retire_capf_certificate(sha256_prefix, actor);
    }
    Result<std::vector<CapfCertificateRecord>> list_capf_certificates() { return impl_->list_capf_certificates(); }

    Status audit(const std::string& actor, const std::string& action, const std::string& device,
                 const std::string& detail) {
        return impl_->audit(actor, action, device, detail);
    }
    Result<std::vector<AuditEvent>> list_audit(int limit);
    Status each_audit_event(int limit, const RowFn<AuditEvent>& row) {  // newest first
        return impl_->each_audit_event(limit, row);
    }
    /// Every audit row with id > `after_id`, oldest first (the chain's order),
    /// with prev_hash and hash: `audit export`, a SIEM's incremental pull.
    Status each_audit_row(std::int64_t after_id, const RowFn<AuditEvent>& row) {
        return impl_->each_audit_row(after_id, row);
    }
    /// Walks the whole audit trail and checks its hash chain (registry/audit_chain.h):
    /// the report names the first row that was edited, deleted, inserted or
    /// reordered. `anchor`: a head hash recorded earlier, which some row must
    /// carry. Errors: the registry's only; a broken chain is a report, not an error.
    Result<AuditChainReport> verify_audit(const std::optional<std::string>& anchor = std::nullopt);

    // CAPF sessions (issue 10 item 4; the rows are in registry/fleet_records.h).
    /// Records one session's outcome; keeps the newest `keep_rows` rows ([capf]
    /// session_history), deleting older ones in the same transaction.
    Status record_capf_session(const CapfSessionRecord& session, std::int64_t keep_rows = kDefaultSessionHistory) {
        return impl_->record_capf_session(session, keep_rows);
    }
    /// Newest first, as `filter` says.
    Status each_capf_session(const CapfSessionFilter& filter, const RowFn<CapfSessionRecord>& row) {
        return impl_->each_capf_session(filter, row);
    }

    // Rollouts (issue 10 item 3; the workflow is module/fleet/rollout.h).
    Result<Rollout> create_rollout(const Rollout& plan, const std::vector<std::string>& devices,
                                   const std::string& actor) {
        return impl_->create_rollout(plan, devices, actor);
    }
    Result<std::optional<Rollout>> find_rollout(const std::string& name) { return impl_->find_rollout(name); }
    Status each_rollout(const RowFn<Rollout>& row) { return impl_->each_rollout(row); }
    Status each_rollout_wave(std::int64_t rollout_id, const RowFn<RolloutWave>& row) {
        return impl_->each_rollout_wave(rollout_id, row);
    }
    Status each_rollout_member(std::int64_t rollout_id, std::optional<int> wave, const RowFn<RolloutMember>& row) {
        return impl_->each_rollout_member(rollout_id, wave, row);
    }
    Status set_rollout_member(std::int64_t rollout_id, const std::string& device,
                              std::optional<std::int64_t> operation_id, const std::string& skipped) {
        return impl_->set_rollout_member(rollout_id, device, operation_id, skipped);
    }
    Status mark_rollout_wave_scheduled(std::int64_t rollout_id, int wave, UnixTime at,
                                       std::optional<UnixTime> completes_by, const std::string& actor) {
        return impl_->mark_rollout_wave_scheduled(rollout_id, wave, at, completes_by, actor);
    }

    /// A fetched LSC becomes the device's active LSC (`lscgate cert adopt`, issue
    /// 10 item 8); the caller checked that it chains to a trusted CAPF.
    Result<CertificateRecord> adopt_fetched_lsc(std::int64_t certificate_id, const std::string& actor) {
        return impl_->adopt_fetched_lsc(certificate_id, actor);
    }

    // Web administration (issue 14; registry/web_records.h, web/).
    /// One page of the device list (keyset by name, bound LIMIT): see DevicePageQuery.
    /// Rows come in name order whichever direction the page was read in.
    Status each_device_page(const DevicePageQuery& query, const RowFn<DeviceListRow>& row);
    /// Every device counted by LSC status (the dashboard); "expiring": an active
    /// LSC whose notAfter is before `expiring_before`.
    Result<LscStatusCounts> count_devices_by_lsc(UnixTime expiring_before) {
        return impl_->count_devices_by_lsc(expiring_before);
    }
    /// A new web account; `password_hash` is Argon2id-encoded (web/password_hash.h).
    /// Errors (Input): the name is taken. Audited (web-account.add).
    Status add_web_account(const std::string& name, WebRole role, const std::string& password_hash,
                           const std::string& actor) {
        return impl_->add_web_account(name, role, password_hash, actor);
    }
    Result<std::optional<WebAccount>> find_web_account(const std::string& name) { return impl_->find_web_account(name); }
    Status each_web_account(const RowFn<WebAccount>& row) { return impl_->each_web_account(row); }  // by name
    /// New password hash; lifts the lockout. Errors (Input): no such account. Audited.
    Status set_web_account_password(const std::string& name, const std::string& password_hash, const std::string& actor) {
        return impl_->set_web_account_password(name, password_hash, actor);
    }
    /// Errors (Input): no such account. Audited (web-account.remove).
    Status remove_web_account(const std::string& name, const std::string& actor) {
        return impl_->remove_web_account(name, actor);
    }
    /// The sign-in failure count and lock the web server computed (not audited here:
    /// the caller audits the sign-in itself).
    Status set_web_login_state(const std::string& name, int failed_logins, std::optional<UnixTime> locked_until) {
        return impl_->set_web_login_state(name, failed_logins, locked_until);
    }

    /// Refuses (kind Unavailable) when the file system holding the registry has
    /// less than `min_free_bytes` available to this process, so a CAPF session
    /// that would have to write is turned away before anything is issued,
    /// rather than failing half-way on a full disk (SQLITE_FULL). Checked anew
    /// each call: sessions resume by themselves when space returns.
    Status check_free_space(std::uint64_t min_free_bytes) { return impl_->check_free_space(min_free_bytes); }

    /// True when this registry is an SQLite file (database() is then usable).
    bool is_sqlite() const { return impl_->sqlite() != nullptr; }
    /// The SQLite connection (SQLite registries only: check is_sqlite()). For
    /// tests and the CAPF server's in-process writer lock.
    SqliteDatabase& database() { return *impl_->sqlite(); }
    /// Connections of one process that write the same SQLite file share this
    /// lock, so they queue in-process instead of sleeping in SQLite's busy
    /// handler. Other engines queue on their own row locks: nothing to do.
    void set_writer_lock(std::shared_ptr<std::mutex> lock);

private:
    std::unique_ptr<StoreBackend> impl_;
};

// Free space a CAPF session needs on the registry's file system before it starts
// writing: a few sessions' worth of log frames (one enrollment writes ~40 KiB).
inline constexpr std::uint64_t kSessionMinFreeBytes = 256 * 1024;

UnixTime now_utc();

}  // namespace lscgate
