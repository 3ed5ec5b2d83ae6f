#pragma once

// The registry writer's SQLite backend (the embedded default): devices,
// operations, certificates, CAPF certificates and the audit trail in one file.

#include "registry/records.h"
#include "registry/store.h"
#include "registry/store_backend.h"
#include "registry/sqlite_handles.h"
#include "registry/store_schema.h"

#include <cstddef>
#include <memory>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lscgate {

// The schema version a migrated SQLite database has: one per shipped migration.
inline constexpr int kStoreSchemaVersion = static_cast<int>(kStoreMigrations.size());

// The SQLite backend of the registry writer: one connection to one file (WAL,
// busy timeout). See store.h for what each method does.
class SqliteStore final : public StoreBackend {
public:
    /// Opens (CreateAndMigrate: creates and migrates) the SQLite registry file `path`.
    static Result<std::unique_ptr<SqliteStore>> open(const std::string& path, Store::OpenMode mode, int busy_timeout_ms);
    explicit SqliteStore(SqliteDatabase db) : db_(std::move(db)) {}
    int schema_version() override;
    Result<Device> add_device(const std::string& name, const std::string& model, const std::string& description,
                              const std::string& actor) override;
    Result<std::optional<Device>> find_device(const std::string& name) override;
    Status each_device(const RowFn<Device>& row) override;
    Status remove_device(const std::string& name, const std::string& actor) override;
    Result<Operation> schedule_operation(const std::string& device, const OperationRequest& request,
                                         const std::string& actor) override;
    Result<std::optional<Operation>> open_operation(std::int64_t device_id) override;
    Status each_operation(const std::optional<std::string>& device, bool include_finished, const RowFn<Operation>& row) override;
    Status cancel_operation(const std::string& device, const std::string& actor) override;
    Status set_operation_state(std::int64_t operation_id, OperationState state, const std::string& error) override;
    Result<bool> claim_operation(std::int64_t operation_id, UnixTime now, int stale_after_seconds,
                                 const std::string& claimer) override;
    Result<int> expire_operations(UnixTime now) override;
    Result<bool> reserve_auth_attempt(std::int64_t device_id, int threshold, int lock_seconds) override;
    Status release_auth_attempt(std::int64_t device_id, int threshold) override;
    Status clear_auth_failures(std::int64_t device_id) override;
    Result<CertificateRecord> record_issued_lsc(const Operation& op, const X509* cert) override;
    Result<CertificateRecord> confirm_issued_lsc(const Operation& op, std::int64_t certificate_id) override;
    Status discard_unconfirmed_lsc(std::int64_t certificate_id, const std::string& why) override;
    Result<CertificateRecord> confirm_lsc_by_possession(std::int64_t certificate_id) override;
    Result<CertificateRecord> commit_issued_lsc(const Operation& op, const X509* cert) override;
    Status commit_fetched_certificate(const Operation& op, const X509* cert, CertificateKind kind) override;
    Status commit_deleted_lsc(const Operation& op) override;
    Result<CertificateRecord> revoke_active_lsc(const std::string& device, const std::string& reason,
                                                const std::string& actor) override;
    Result<CertificateRecord> revoke_serial(const std::string& serial_hex, const std::string& reason,
                                            const std::string& actor) override;
    Status each_certificate(const std::optional<std::string>& device, const RowFn<CertificateRecord>& row) override;
    Result<std::optional<CertificateRecord>> find_certificate_by_fingerprint(const std::string& sha256_hex) override;
    Result<std::optional<CertificateRecord>> active_lsc(const std::string& device) override;
    Status add_capf_certificate(const X509* cert, const std::string& actor) override;
    Result<CapfCertificateRecord> retire_capf_certificate(const std::string& sha256_prefix, const std::string& actor) override;
    Result<std::vector<CapfCertificateRecord>> list_capf_certificates() override;
    Status audit(const std::string& actor, const std::string& action, const std::string& device,
                 const std::string& detail) override;
    Status each_audit_event(int limit, const RowFn<AuditEvent>& row) override;
    Status each_audit_row(std::int64_t after_id, const RowFn<AuditEvent>& row) override;
    // Fleet rows (sqlite_store_fleet.cpp).
    Status record_capf_session(const CapfSessionRecord& session, std::int64_t keep_rows) override;
    Status each_capf_session(const CapfSessionFilter& filter, const RowFn<CapfSessionRecord>& row) override;
    Result<Rollout> create_rollout(const Rollout& plan, const std::vector<std::string>& devices,
                                   const std::string& actor) override;
    Result<std::optional<Rollout>> find_rollout(const std::string& name) override;
    Status each_rollout(const RowFn<Rollout>& row) override;
    Status each_rollout_wave(std::int64_t rollout_id, const RowFn<RolloutWave>& row) override;
    Status each_rollout_member(std::int64_t rollout_id, std::optional<int> wave,
                               const RowFn<RolloutMember>& row) override;
    Status set_rollout_member(std::int64_t rollout_id, const std::string& device,
                              std::optional<std::int64_t> operation_id, const std::string& skipped) override;
    Status mark_rollout_wave_scheduled(std::int64_t rollout_id, int wave, UnixTime at,
                                       std::optional<UnixTime> completes_by, const std::string& actor) override;
    Result<CertificateRecord> adopt_fetched_lsc(std::int64_t certificate_id, const std::string& actor) override;
    Status check_free_space(std::uint64_t min_free_bytes) override;
    Result<std::unique_ptr<BackendTransaction>> begin() override;
    SqliteDatabase* sqlite() override { return &db_; }

private:
    Status migrate();
    // Computes prev_hash and hash of every audit row present (migration to version 3).
    Status chain_existing_audit_rows();
    Status check_version();
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
    // Rollouts with the query's fixed `where` (one bound text value, or none).
    Status each_rollout_where(const std::string& where, const std::optional<std::string>& arg,
                              const RowFn<Rollout>& row);
    // The rows of a new rollout (create_rollout, inside its transaction).
    Status insert_rollout_rows(std::int64_t rollout_id, int waves, int wave_size,
                               const std::vector<std::string>& devices);

    SqliteDatabase db_;
};


}  // namespace lscgate
