#pragma once

// The registry: devices, operations, certificates, CAPF certificates and the
// audit trail, in one SQLite file (WAL, busy timeout). One Store object is one
// connection and must be used by one thread at a time; open one per thread.

#include "registry/records.h"
#include "registry/sqlite_handles.h"
#include "registry/store_schema.h"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lscgate {

// The schema version a migrated database has: one per shipped migration.
inline constexpr int kStoreSchemaVersion = static_cast<int>(kStoreMigrations.size());

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
};

class Store {
public:
    /// Called once per row by the each_* methods, in order, while the query runs:
    /// a list is never held in memory whole. An error it returns stops the walk
    /// and is returned as is.
    template <class T>
    using RowFn = std::function<Status(const T&)>;

    enum class OpenMode { CreateAndMigrate, ExistingReadWrite };
    static Result<Store> open(const std::string& path, OpenMode mode = OpenMode::ExistingReadWrite,
                              int busy_timeout_ms = 5000);

    int schema_version();

    // Devices
    Result<Device> add_device(const std::string& name, const std::string& model, const std::string& description,
                              const std::string& actor);
    Result<std::optional<Device>> find_device(const std::string& name);
    Result<std::vector<Device>> list_devices();
    Status each_device(const RowFn<Device>& row);  // ordered by name
    Status remove_device(const std::string& name, const std::string& actor);
    // Adds many devices in transactions of `chunk` rows. Names must be normalized.
    // Checked first, before anything is written: a duplicate in the list or a name
    // already registered adds none. A failure after that (another writer added one
    // meanwhile, disk full) stops at that chunk: earlier chunks stay added.
    BulkResult<Device> add_devices(const std::vector<std::string>& names, const std::string& model,
                                   const std::string& description, const std::string& actor,
                                   std::size_t chunk = kBulkChunkRows);

    // Operations. Scheduling replaces (cancels) any operation still open for the device.
    Result<Operation> schedule_operation(const std::string& device, const OperationRequest& request,
                                         const std::string& actor);
    // Schedules (device, request) pairs in transactions of `chunk` rows; every
    // device is checked to exist before anything is written (an unknown one
    // schedules none). Requests carry their secret already hashed: nothing slow
    // runs while the writer lock is held.
    BulkResult<Operation> schedule_operations(const std::vector<std::pair<std::string, OperationRequest>>& items,
                                              const std::string& actor, std::size_t chunk = kBulkChunkRows);
    Result<std::optional<Operation>> open_operation(std::int64_t device_id);
    Result<std::vector<Operation>> list_operations(const std::optional<std::string>& device, bool include_finished);
    Status each_operation(const std::optional<std::string>& device, bool include_finished, const RowFn<Operation>& row);
    Status cancel_operation(const std::string& device, const std::string& actor);
    Status set_operation_state(std::int64_t operation_id, OperationState state, const std::string& error);
    // Pending operations whose deadline passed become timed-out; returns how many.
    Result<int> expire_operations(UnixTime now);

    // Authentication attempts and lockout. An attempt is counted as a failure
    // *before* it is checked, atomically with the lockout test, so parallel
    // sessions cannot all slip in under the limit; a success clears the count.
    // Returns false when the device is locked out (the attempt must not run).
    Result<bool> reserve_auth_attempt(std::int64_t device_id, int threshold, int lock_seconds);
    /// Gives back one attempt counted by reserve_auth_attempt when the check could not
    /// be made for a reason on our side (registry read error, missing configuration,
    /// OpenSSL failure): the count drops by one, atomically, and a lock that count had
    /// reached is lifted. `threshold` is the lockout_failures the reservation used.
    Status release_auth_attempt(std::int64_t device_id, int threshold);
    Status clear_auth_failures(std::int64_t device_id);

    // Outcomes of a CAPF session, each one transaction.
    //
    // An issued LSC goes through the registry in two steps around the phone's
    // answer: record_issued_lsc (status unconfirmed) *before* STORE_CERTIFICATE_REQUEST
    // is sent, so whatever happens next (SIGKILL, a locked or full database) the
    // registry knows every LSC a phone can hold; then confirm_issued_lsc when the
    // phone answers "stored": it becomes active, every other active or unconfirmed
    // LSC of the device becomes superseded, the operation succeeds. If the phone
    // refuses it, or it never left the server, discard_unconfirmed_lsc deletes the row.
    Result<CertificateRecord> record_issued_lsc(const Operation& op, const X509* cert);
    Result<CertificateRecord> confirm_issued_lsc(const Operation& op, std::int64_t certificate_id);
    Status discard_unconfirmed_lsc(std::int64_t certificate_id, const std::string& why);
    // A phone proved possession of its unconfirmed LSC (an LSC-authenticated CAPF
    // session, capf-protocol notes §7.3): it is the phone's certificate, so it
    // becomes active like a confirmed one. Refused when the device has a newer
    // active LSC (then the unconfirmed one is stale, and becomes superseded).
    Result<CertificateRecord> confirm_lsc_by_possession(std::int64_t certificate_id);
    // Both steps at once (tests, imports): recorded and active in one transaction.
    Result<CertificateRecord> commit_issued_lsc(const Operation& op, const X509* cert);
    Status commit_fetched_certificate(const Operation& op, const X509* cert, CertificateKind kind);
    Status commit_deleted_lsc(const Operation& op);

    // Revocation: the device's active LSC, or any certificate by serial (hex).
    // Returns what was revoked; takes effect on the RADIUS side at the next request.
    // By device, its unconfirmed LSCs are revoked with the active one (RADIUS would
    // otherwise accept them); the active one is returned, or the newest unconfirmed.
    Result<CertificateRecord> revoke_active_lsc(const std::string& device, const std::string& reason,
                                                const std::string& actor);
    Result<CertificateRecord> revoke_serial(const std::string& serial_hex, const std::string& reason,
                                            const std::string& actor);

    // Certificates
    Result<std::vector<CertificateRecord>> list_certificates(const std::optional<std::string>& device);
    Status each_certificate(const std::optional<std::string>& device, const RowFn<CertificateRecord>& row);
    Result<std::optional<CertificateRecord>> find_certificate_by_fingerprint(const std::string& sha256_hex);
    Result<std::optional<CertificateRecord>> active_lsc(const std::string& device);

    // CAPF certificates: adding a current one moves the old current to previous.
    Status add_capf_certificate(const X509* cert, const std::string& actor);
    // Stops trusting a previous CAPF certificate (its LSCs become foreign to
    // RADIUS and can no longer re-key). The current one cannot be retired.
    Result<CapfCertificateRecord> retire_capf_certificate(const std::string& sha256_prefix, const std::string& actor);
    Result<std::vector<CapfCertificateRecord>> list_capf_certificates();

    Status audit(const std::string& actor, const std::string& action, const std::string& device,
                 const std::string& detail);
    Result<std::vector<AuditEvent>> list_audit(int limit);
    Status each_audit_event(int limit, const RowFn<AuditEvent>& row);  // newest first

    /// Refuses (kind Unavailable) when the file system holding the registry has
    /// less than `min_free_bytes` available to this process, so a CAPF session
    /// that would have to write is turned away before anything is issued,
    /// rather than failing half-way on a full disk (SQLITE_FULL). Checked anew
    /// each call: sessions resume by themselves when space returns.
    Status check_free_space(std::uint64_t min_free_bytes);

    SqliteDatabase& database() { return db_; }

private:
    explicit Store(SqliteDatabase db) : db_(std::move(db)) {}
    Status migrate();
    Status check_version();
    Result<std::vector<Operation>> query_operations(const std::string& sql, const std::optional<std::string>& arg);
    Status each_operation_query(const std::string& sql, const std::optional<std::string>& arg,
                                const RowFn<Operation>& row);
    Status each_certificate_where(const std::string& where, const std::optional<std::string>& arg,
                                  const RowFn<CertificateRecord>& row);
    Result<std::vector<CertificateRecord>> query_certificates(const std::string& where,
                                                              const std::optional<std::string>& arg);
    Result<CertificateRecord> revoke(const CertificateRecord& target, const std::string& reason, const std::string& actor);
    Status insert_certificate(const std::string& device, CertificateKind kind, CertificateStatus status,
                              const CertificateFacts& facts, const std::string& pem,
                              std::optional<std::int64_t> operation_id);
    // Makes certificate `id` (unconfirmed) the device's active LSC, superseding every
    // other active or unconfirmed LSC of the device; inside the caller's transaction.
    Result<CertificateRecord> promote_lsc(std::int64_t id, const std::string& how);

    SqliteDatabase db_;
};

// Free space a CAPF session needs on the registry's file system before it starts
// writing: a few sessions' worth of log frames (one enrollment writes ~40 KiB).
inline constexpr std::uint64_t kSessionMinFreeBytes = 256 * 1024;

UnixTime now_utc();

}  // namespace lscgate
