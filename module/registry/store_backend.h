#pragma once

// The narrow interface a registry backend implements for the writer (Store):
// one implementation per database engine (SQLite: sqlite_store.h; PostgreSQL:
// postgresql/pg_store.h). Logic that is the same on every engine (collecting
// lists, bulk writes in chunks) lives in Store, above this interface, once.
//
// Every method is one transaction of its own, or joins the caller's open
// transaction (begin() nests as a savepoint), so a caller can make several
// calls all-or-nothing. Errors are values with a kind (pki/result.h); nothing
// throws. Times are Unix seconds (UTC).

#include "registry/fleet_records.h"
#include "registry/records.h"
#include "registry/web_records.h"

#include <openssl/x509.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lscgate {

class SqliteDatabase;

/// An open transaction of a backend: rolled back when destroyed uncommitted.
class BackendTransaction {
public:
    virtual ~BackendTransaction() = default;
    virtual Status commit() = 0;
};

/// A row callback that appends each row to `out`: a list is an each_* walk
/// collected (Store's list_* methods, and backends' own lookups).
template <class T>
std::function<Status(const T&)> collect_into(std::vector<T>& out) {
    return [&out](const T& row) -> Status {
        out.push_back(row);
        return {};
    };
}

class StoreBackend {
public:
    /// Called once per row by the each_* methods, in order, while the query
    /// runs; an error it returns stops the walk and is returned as is.
    template <class T>
    using RowFn = std::function<Status(const T&)>;

    virtual ~StoreBackend() = default;

    /// The migrated schema version (SQLite: PRAGMA user_version), -1 if unreadable.
    virtual int schema_version() = 0;
    /// Begins a transaction (a savepoint inside an open one).
    virtual Result<std::unique_ptr<BackendTransaction>> begin() = 0;

    virtual Result<Device> add_device(const std::string& name, const std::string& model,
                                      const std::string& description, const std::string& actor) = 0;
    virtual Result<std::optional<Device>> find_device(const std::string& name) = 0;
    virtual Status each_device(const RowFn<Device>& row) = 0;
    virtual Status remove_device(const std::string& name, const std::string& actor) = 0;

    virtual Result<Operation> schedule_operation(const std::string& device, const OperationRequest& request,
                                                 const std::string& actor) = 0;
    virtual Result<std::optional<Operation>> open_operation(std::int64_t device_id) = 0;
    virtual Status each_operation(const std::optional<std::string>& device, bool include_finished,
                                  const RowFn<Operation>& row) = 0;
    virtual Status cancel_operation(const std::string& device, const std::string& actor) = 0;
    virtual Status set_operation_state(std::int64_t operation_id, OperationState state, const std::string& error) = 0;
    virtual Result<bool> claim_operation(std::int64_t operation_id, UnixTime now, int stale_after_seconds,
                                         const std::string& claimer) = 0;
    virtual Result<int> expire_operations(UnixTime now) = 0;

    virtual Result<bool> reserve_auth_attempt(std::int64_t device_id, int threshold, int lock_seconds) = 0;
    virtual Status release_auth_attempt(std::int64_t device_id, int threshold) = 0;
    virtual Status clear_auth_failures(std::int64_t device_id) = 0;

    virtual Result<CertificateRecord> record_issued_lsc(const Operation& op, const X509* cert) = 0;
    virtual Result<CertificateRecord> confirm_issued_lsc(const Operation& op, std::int64_t certificate_id) = 0;
    virtual Status discard_unconfirmed_lsc(std::int64_t certificate_id, const std::string& why) = 0;
    virtual Result<CertificateRecord> confirm_lsc_by_possession(std::int64_t certificate_id) = 0;
    virtual Result<CertificateRecord> commit_issued_lsc(const Operation& op, const X509* cert) = 0;
    virtual Status commit_fetched_certificate(const Operation& op, const X509* cert, CertificateKind kind) = 0;
    virtual Status commit_deleted_lsc(const Operation& op) = 0;

    virtual Result<CertificateRecord> revoke_active_lsc(const std::string& device, const std::string& reason,
                                                        const std::string& actor) = 0;
    virtual Result<CertificateRecord> revoke_serial(const std::string& serial_hex, const std::string& reason,
                                                    const std::string& actor) = 0;

    virtual Status each_certificate(const std::optional<std::string>& device, const RowFn<CertificateRecord>& row) = 0;
    virtual Result<std::optional<CertificateRecord>> find_certificate_by_fingerprint(const std::string& sha256_hex) = 0;
    virtual Result<std::optional<CertificateRecord>> active_lsc(const std::string& device) = 0;

    virtual Status add_capf_certificate(const X509* cert, const std::string& actor) = 0;
    virtual Result<CapfCertificateRecord> retire_capf_certificate(const std::string& sha256_prefix,
                                                                  const std::string& actor) = 0;
    virtual Result<std::vector<CapfCertificateRecord>> list_capf_certificates() = 0;

    virtual Status audit(const std::string& actor, const std::string& action, const std::string& device,
                         const std::string& detail) = 0;
    /// Newest first, at most `limit` rows.
    virtual Status each_audit_event(int limit, const RowFn<AuditEvent>& row) = 0;
    /// Every audit row with id > `after_id`, oldest first (id order: the chain's
    /// order), with its prev_hash and hash.
    virtual Status each_audit_row(std::int64_t after_id, const RowFn<AuditEvent>& row) = 0;

    // CAPF sessions (issue 10 item 4): one row per session, the newest
    // `keep_rows` kept (older rows are deleted in the same transaction).
    virtual Status record_capf_session(const CapfSessionRecord& session, std::int64_t keep_rows) = 0;
    /// Newest first, filtered as `filter` says.
    virtual Status each_capf_session(const CapfSessionFilter& filter, const RowFn<CapfSessionRecord>& row) = 0;

    // Rollouts (issue 10 item 3). create_rollout writes the rollout, its waves
    // (none scheduled yet) and its devices in input order, device i in wave
    // i / wave_size + 1, in one transaction; a name already used is refused
    // (kind Config). `plan.id`, `waves`, `devices`, `next_wave` are computed.
    virtual Result<Rollout> create_rollout(const Rollout& plan, const std::vector<std::string>& devices,
                                           const std::string& actor) = 0;
    virtual Result<std::optional<Rollout>> find_rollout(const std::string& name) = 0;
    virtual Status each_rollout(const RowFn<Rollout>& row) = 0;  // by creation
    virtual Status each_rollout_wave(std::int64_t rollout_id, const RowFn<RolloutWave>& row) = 0;
    /// Devices in input order, every wave or only `wave`, each with its operation
    /// and that operation's newest CAPF session joined.
    virtual Status each_rollout_member(std::int64_t rollout_id, std::optional<int> wave,
                                       const RowFn<RolloutMember>& row) = 0;
    /// Records what scheduling a wave did for one device: its operation, or why it was skipped.
    /// Only once per device: a member another run already handled (operation or
    /// skip recorded) is left as it is and the call fails (kind Config), so that
    /// the caller's transaction is undone; so does a device not in the rollout.
    virtual Status set_rollout_member(std::int64_t rollout_id, const std::string& device,
                                      std::optional<std::int64_t> operation_id, const std::string& skipped) = 0;
    /// Marks `wave` scheduled at `at` with its deadline, and moves next_wave past it (audited).
    virtual Status mark_rollout_wave_scheduled(std::int64_t rollout_id, int wave, UnixTime at,
                                               std::optional<UnixTime> completes_by, const std::string& actor) = 0;

    /// Makes a fetched LSC (status fetched, kind lsc) the device's active LSC,
    /// superseding any other active or unconfirmed one (issue 10 item 8, audited).
    /// The caller has checked that it chains to a trusted CAPF. Errors: no such
    /// certificate, not a fetched LSC (kind Config).
    virtual Result<CertificateRecord> adopt_fetched_lsc(std::int64_t certificate_id, const std::string& actor) = 0;

    /// Refuses (kind Unavailable) when the registry cannot take a session's
    /// writes now (SQLite: too little free space on its file system).
    virtual Status check_free_space(std::uint64_t min_free_bytes) = 0;

    // Web administration (issue 14; registry/web_records.h).
    /// One page of devices in name order (descending when `query.before` is set:
    /// the caller reverses), at most query.limit rows: a keyset walk on the name
    /// index with a bound LIMIT, never an OFFSET.
    virtual Status each_device_page(const DevicePageQuery& query, const RowFn<DeviceListRow>& row) = 0;
    /// Every device counted by LSC status; `expiring_before` bounds "expiring".
    virtual Result<LscStatusCounts> count_devices_by_lsc(UnixTime expiring_before) = 0;
    /// Adds an account (audited web-account.add). Errors (Input): the name is taken.
    virtual Status add_web_account(const std::string& name, WebRole role, const std::string& password_hash,
                                   const std::string& actor) = 0;
    virtual Result<std::optional<WebAccount>> find_web_account(const std::string& name) = 0;
    virtual Status each_web_account(const RowFn<WebAccount>& row) = 0;  // by name
    /// Replaces the password hash and lifts any lockout (audited web-account.passwd).
    /// Errors (Input): no such account.
    virtual Status set_web_account_password(const std::string& name, const std::string& password_hash,
                                            const std::string& actor) = 0;
    /// Errors (Input): no such account. Audited web-account.remove.
    virtual Status remove_web_account(const std::string& name, const std::string& actor) = 0;
    /// Writes the sign-in lockout state the web server decided (web/login_guard.h).
    virtual Status set_web_login_state(const std::string& name, int failed_logins,
                                       std::optional<UnixTime> locked_until) = 0;

    /// The SQLite connection, or null on another engine (tests, the CAPF
    /// server's in-process writer lock).
    virtual SqliteDatabase* sqlite() { return nullptr; }
};

}  // namespace lscgate
