#pragma once

// The registry writer's PostgreSQL backend: the same devices, operations,
// certificates, CAPF certificates and audit trail as SqliteStore, in the schema
// `lscgate` of a database several RADIUS nodes and CAPF issuers share
// (pg_schema.h). Every method has SqliteStore's semantics (store.h says what each
// does); this file says what differs because the database is shared:
//
//  * Statements are prepared once per connection (PgConnection::prepare) and
//    every value is bound. Times cross as Unix seconds (to_timestamp($n::bigint),
//    floor(extract(epoch FROM col))::bigint).
//  * Each write method is one transaction (READ COMMITTED), or a savepoint inside
//    the caller's. An outermost one that fails with SQLSTATE 40001/40P01 (a
//    deadlock over the change counter, pg_schema.h) is run again from the start,
//    at most kPgWriteAttempts times in all; nested ones leave that to the caller's.
//  * A write waits at most `lock_timeout` (the busy timeout given to open) for a
//    row another connection holds (a CLI write during a CAPF session), then
//    fails with kind Unavailable (SQLSTATE 55P03) and changes nothing.
//  * A connection whose server went away is reconnected at the next call made
//    outside a transaction (a read is then run again; a write transaction is
//    begun anew): a restarted PostgreSQL needs no restart of lscgate serve. A
//    call that was inside a transaction fails with kind Unavailable.
//  * claim_operation is one conditional UPDATE: of two CAPF servers (two
//    connections) racing for one operation exactly one gets it.

#include "registry/postgresql/pq_handles.h"
#include "registry/records.h"
#include "registry/store.h"
#include "registry/store_backend.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lscgate {

/// How often an outermost write transaction is tried when PostgreSQL breaks it
/// with 40001 (serialization failure) or 40P01 (deadlock): these are transient
/// by definition (PostgreSQL docs §13.6), so a few attempts always suffice in practice.
inline constexpr int kPgWriteAttempts = 5;

class PgStore final : public StoreBackend {
public:
    /// Connects to the registry named by the libpq URI/conninfo `conninfo`.
    /// CreateAndMigrate brings the schema to the latest version (pg_migrate);
    /// ExistingReadWrite refuses a registry not at this lscgate's version
    /// (pg_check_schema_version) and a role that may not write it (the RADIUS
    /// role: kind Config, naming the missing privilege). `lock_timeout_ms`
    /// becomes the session's lock_timeout. Errors keep the connection's kind:
    /// Unavailable (server unreachable, starting, full), Config (authentication,
    /// pg_hba.conf, privileges, no such database); messages never hold the password.
    static Result<std::unique_ptr<PgStore>> open(const std::string& conninfo, Store::OpenMode mode,
                                                 int lock_timeout_ms);
    explicit PgStore(PgConnection conn) : conn_(std::move(conn)) {}

    int schema_version() override;
    Result<std::unique_ptr<BackendTransaction>> begin() override;
    Result<Device> add_device(const std::string& name, const std::string& model, const std::string& description,
                              const std::string& actor) override;
    Result<std::optional<Device>> find_device(const std::string& name) override;
    Status each_device(const RowFn<Device>& row) override;
    Status remove_device(const std::string& name, const std::string& actor) override;
    Result<Operation> schedule_operation(const std::string& device, const OperationRequest& request,
                                         const std::string& actor) override;
    Result<std::optional<Operation>> open_operation(std::int64_t device_id) override;
    Status each_operation(const std::optional<std::string>& device, bool include_finished,
                          const RowFn<Operation>& row) override;
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
    Result<CapfCertificateRecord> retire_capf_certificate(const std::string& sha256_prefix,
                                                          const std::string& actor) override;
    Result<std::vector<CapfCertificateRecord>> list_capf_certificates() override;
    Status audit(const std::string& actor, const std::string& action, const std::string& device,
                 const std::string& detail) override;
    Status each_audit_event(int limit, const RowFn<AuditEvent>& row) override;
    Status each_audit_row(std::int64_t after_id, const RowFn<AuditEvent>& row) override;
    // Fleet rows (pg_store_fleet.cpp). each_capf_session and each_rollout_member
    // read in pages, so memory stays bounded whatever the table holds.
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
    /// Always succeeds: the registry's disk is the database server's, which this
    /// process cannot see (statvfs here measures the wrong machine). A full server
    /// disk fails the write itself with SQLSTATE 53100, reported as Unavailable,
    /// and the transaction leaves nothing behind.
    Status check_free_space(std::uint64_t min_free_bytes) override;

    /// The connection (tests: raw SQL against the registry).
    PgConnection& connection() { return conn_; }

private:
    /// Runs the statement `name` (prepared on first use on this connection).
    Result<PgResult> run(const std::string& name, const std::string& sql, const PgParams& params);
    /// BEGIN (a SAVEPOINT inside an open transaction); an idle connection whose
    /// server restarted is reconnected first (PQreset), once.
    Result<PgTransaction> begin_outermost_or_nested();
    /// Runs `body` in a transaction (a savepoint when one is open), retrying an
    /// outermost one on 40001/40P01.
    template <class F>
    auto write(F&& body) -> decltype(body());

    Status insert_audit(const std::string& actor, const std::string& action, const std::string& device,
                        const std::string& detail);
    Result<std::int64_t> insert_certificate(const std::string& device, CertificateKind kind, CertificateStatus status,
                                            const CertificateFacts& facts, const std::string& pem,
                                            std::optional<std::int64_t> operation_id);
    Result<std::vector<CertificateRecord>> certificates(const std::string& name, const std::string& where,
                                                        const PgParams& params);
    Status each_operation_where(const std::string& name, const std::string& where, const PgParams& params,
                                const RowFn<Operation>& row);
    Result<CertificateRecord> revoke(const CertificateRecord& target, const std::string& reason,
                                     const std::string& actor);
    Result<CertificateRecord> promote_lsc(std::int64_t id, const std::string& how);
    Status set_state(std::int64_t operation_id, OperationState state, const std::string& error);
    Result<CertificateRecord> record_lsc(const Operation& op, const X509* cert);
    Result<CertificateRecord> confirm_lsc(const Operation& op, std::int64_t certificate_id);
    Status each_rollout_where(const std::string& name, const std::string& where, const PgParams& params,
                              const RowFn<Rollout>& row);
    Status insert_rollout_rows(std::int64_t rollout_id, int waves, int wave_size,
                               const std::vector<std::string>& devices);

    PgConnection conn_;
    int open_levels_ = 0;  // transaction levels open through this store (begin(), write())
};

}  // namespace lscgate
