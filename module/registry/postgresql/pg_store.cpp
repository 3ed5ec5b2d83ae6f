// PgStore: opening, transactions with retry, devices, operations, lockout,
// CAPF certificates and the audit trail. Certificates: pg_store_lsc.cpp.

#include "registry/postgresql/pg_store.h"

#include "registry/postgresql/pg_reader_conninfo.h"

#include "pki/certificate.h"
#include "registry/audit_chain.h"
#include "registry/postgresql/pg_audit_chain.h"
#include "registry/postgresql/pg_migrate.h"
#include "registry/postgresql/pg_schema.h"
#include "registry/postgresql/pg_store_rows.h"

#include <cctype>

namespace lscgate {

namespace {

class PgBackendTransaction final : public BackendTransaction {
public:
    PgBackendTransaction(PgTransaction tx, int& open_levels) : tx_(std::move(tx)), open_levels_(open_levels) {
        ++open_levels_;
    }
    ~PgBackendTransaction() override { --open_levels_; }
    PgBackendTransaction(const PgBackendTransaction&) = delete;
    PgBackendTransaction& operator=(const PgBackendTransaction&) = delete;
    Status commit() override { return tx_.commit(); }

private:
    PgTransaction tx_;
    int& open_levels_;
};

// The role must be able to write every table the writer touches: the RADIUS
// role connecting here (a wrong conninfo in lscgate.toml) is told at once, by
// name, rather than at the first CAPF session.
Status check_write_privileges(PgConnection& conn) {
    static constexpr const char* kTables[] = {"devices", "operations", "certificates", "capf_certificates", "audit",
                                              "capf_sessions", "rollouts", "rollout_waves", "rollout_devices"};
    for (const char* table : kTables) {
        auto r = conn.exec_params("SELECT has_table_privilege(current_user, $1, 'INSERT,UPDATE')",
                                  {pg_param(std::string("lscgate.") + table)});
        if (!r) return r.error();
        auto allowed = r->boolean(0, 0);
        if (!allowed) return allowed.error();
        if (!*allowed) {
            auto who = conn.exec("SELECT current_user");
            const std::string role = who ? who->text(0, 0) : "this role";
            return fail(ErrorKind::Config, "role " + role + " has no INSERT/UPDATE privilege on lscgate." + table +
                                               ": the registry writer needs the issuer role (lscgate_issuer, "
                                               "policy/postgresql/setup.sql)");
        }
    }
    return {};
}

}  // namespace

Result<std::unique_ptr<PgStore>> PgStore::open(const std::string& conninfo, Store::OpenMode mode, int lock_timeout_ms) {
    // A server gone from the network (no reply, no refusal) must not hold the
    // caller for the kernel's minutes: in `lscgate serve` every registry worker
    // would wait on it. Unacknowledged data fails after 15 s, a silent server
    // after 10 + 3 x 5 s, unless the conninfo sets its own bounds.
    PgReaderBounds writer_bounds;
    writer_bounds.connect_timeout = std::chrono::seconds(5);
    writer_bounds.tcp_user_timeout = std::chrono::milliseconds(15000);
    writer_bounds.keepalives_idle = std::chrono::seconds(10);
    writer_bounds.keepalives_interval = std::chrono::seconds(5);
    auto effective = pg_reader_conninfo(conninfo, writer_bounds);
    if (!effective) return effective.error();
    auto conn = PgConnection::connect(*effective, 5, "lscgate");
    if (!conn) return conn.error();
    // A write that meets a row held by another connection waits this long, then
    // fails (55P03, Unavailable) instead of hanging: SQLite's busy timeout.
    if (auto r = conn->exec_params("SELECT set_config('lock_timeout', $1, false)",
                                   {pg_param(std::to_string(lock_timeout_ms > 0 ? lock_timeout_ms : 1) + "ms")});
        !r)
        return r.error();
    if (mode == Store::OpenMode::CreateAndMigrate) {
        if (auto s = pg_migrate(*conn); !s) return s.error();
    } else if (auto s = pg_check_schema_version(*conn); !s) {
        return s.error();
    }
    if (auto s = check_write_privileges(*conn); !s) return s.error();
    return std::make_unique<PgStore>(std::move(*conn));
}

Result<PgResult> PgStore::run(const std::string& name, const std::string& sql, const PgParams& params) {
    const bool outside = open_levels_ == 0;
    // The server went away earlier: outside a transaction nothing is lost by
    // reconnecting now. Inside one the caller's transaction is gone: it fails.
    if (outside && !conn_.ok()) {
        if (auto s = conn_.reset(); !s) return s.error();
    }
    auto once = [&]() -> Result<PgResult> {
        if (auto s = conn_.prepare(name, sql, static_cast<int>(params.size())); !s) return s.error();
        return conn_.exec_prepared(name, params);
    };
    auto r = once();
    // It went away since our last statement (libpq learns it only now): a
    // statement outside a transaction is a read, run again once reconnected.
    if (!r && outside && sqlstate::is_connection_error(conn_.last_sqlstate())) {
        if (auto s = conn_.reset(); !s) return s.error();
        r = once();
    }
    return r;
}

Result<PgTransaction> PgStore::begin_outermost_or_nested() {
    const bool outermost = open_levels_ == 0;
    if (outermost && !conn_.ok()) {
        if (auto s = conn_.reset(); !s) return s.error();
    }
    {
        auto tx = conn_.begin();
        if (tx || !outermost || !sqlstate::is_connection_error(conn_.last_sqlstate())) return tx;
    }
    if (auto s = conn_.reset(); !s) return s.error();  // BEGIN failed: nothing was written
    return conn_.begin();
}

Result<std::unique_ptr<BackendTransaction>> PgStore::begin() {
    auto tx = begin_outermost_or_nested();
    if (!tx) return tx.error();
    return std::unique_ptr<BackendTransaction>(std::make_unique<PgBackendTransaction>(std::move(*tx), open_levels_));
}

int PgStore::schema_version() {
    auto v = pg_schema_version(conn_);
    return v ? *v : -1;
}

Status PgStore::check_free_space(std::uint64_t /*min_free_bytes*/) { return {}; }

// ---- audit ------------------------------------------------------------------

Status PgStore::insert_audit(const std::string& actor, const std::string& action, const std::string& device,
                             const std::string& detail) {
    // Always inside a write transaction (write() or the caller's): the advisory
    // lock is held until the outermost commit, so the next writer reads this
    // row's hash only once it is committed, and the chain never forks. The id is
    // taken under the lock too, so id order is chain order.
    if (auto r = run("audit_chain_lock", "SELECT pg_advisory_xact_lock($1::bigint)", {pg_param(kPgAuditChainLock)}); !r)
        return r.error();
    auto last = run("audit_chain_head", "SELECT hash FROM lscgate.audit ORDER BY id DESC LIMIT 1", {});
    if (!last) return last.error();
    auto id = run("audit_next_id", "SELECT nextval(pg_get_serial_sequence('lscgate.audit', 'id'))", {});
    if (!id) return id.error();
    auto next = id->int64(0, 0);
    if (!next) return next.error();
    AuditEvent e{*next, now_utc(), actor, action, device, detail, {}, {}};
    e.prev_hash = last->rows() == 0 ? std::string(kAuditGenesisHash) : last->text(0, 0);
    e.hash = audit_row_hash(e.prev_hash, e);
    auto r = run("audit_insert",
                 "INSERT INTO lscgate.audit(id, at, actor, action, device, detail, prev_hash, hash) "
                 "VALUES($1::bigint, to_timestamp($2::bigint), $3, $4, $5, $6, $7, $8)",
                 {pg_param(e.id), pg_param(e.at), pg_param(actor), pg_param(action), pg_param(device),
                  pg_param(detail), pg_param(e.prev_hash), pg_param(e.hash)});
    if (!r) return r.error();
    return {};
}

Status PgStore::audit(const std::string& actor, const std::string& action, const std::string& device,
                      const std::string& detail) {
    return write([&]() -> Status { return insert_audit(actor, action, device, detail); });
}

Status PgStore::each_audit_event(int limit, const RowFn<AuditEvent>& row) {
    auto r = run("audit_list", "SELECT " + pg_audit_columns() + " FROM lscgate.audit ORDER BY id DESC LIMIT $1",
                 {pg_param(limit)});
    if (!r) return r.error();
    for (int i = 0; i < r->rows(); ++i) {
        auto e = pg_audit_row(*r, i);
        if (!e) return e.error();
        if (auto s = row(*e); !s) return s;
    }
    return {};
}

Status PgStore::each_audit_row(std::int64_t after_id, const RowFn<AuditEvent>& row) {
    // Pages by id: memory stays bounded on a trail of millions of rows.
    for (std::int64_t after = after_id;;) {
        auto r = run("audit_page",
                     "SELECT " + pg_audit_columns() + " FROM lscgate.audit WHERE id > $1::bigint ORDER BY id LIMIT " +
                         std::to_string(kPgAuditPageRows),
                     {pg_param(after)});
        if (!r) return r.error();
        for (int i = 0; i < r->rows(); ++i) {
            auto e = pg_audit_row(*r, i);
            if (!e) return e.error();
            if (auto s = row(*e); !s) return s;
            after = e->id;
        }
        if (r->rows() < kPgAuditPageRows) return {};
    }
}

// ---- devices ----------------------------------------------------------------

Result<Device> PgStore::add_device(const std::string& name, const std::string& model, const std::string& description,
                                   const std::string& actor) {
    return write([&]() -> Result<Device> {
        // ON CONFLICT: a device another writer added meanwhile is "already exists",
        // not a unique-violation error that aborts the caller's transaction.
        const auto now = now_utc();
        auto r = run("device_add",
                     "INSERT INTO lscgate.devices(name, model, description, created_at, updated_at) "
                     "VALUES($1, $2, $3, to_timestamp($4::bigint), to_timestamp($4::bigint)) "
                     "ON CONFLICT (name) DO NOTHING RETURNING " +
                         std::string(kPgDeviceColumns),
                     {pg_param(name), pg_param(model), pg_param(description), pg_param(now)});
        if (!r) return r.error();
        if (r->rows() == 0) return fail("device " + name + " already exists");
        auto dev = read_pg_device(*r, 0);
        if (!dev) return dev.error();
        if (auto s = insert_audit(actor, "device.add", name, model.empty() ? "" : "model=" + model); !s)
            return s.error();
        return dev;
    });
}

Result<std::optional<Device>> PgStore::find_device(const std::string& name) {
    auto r = run("device_find", "SELECT " + std::string(kPgDeviceColumns) + " FROM lscgate.devices WHERE name = $1",
                 {pg_param(name)});
    if (!r) return r.error();
    if (r->rows() == 0) return std::optional<Device>{};
    auto dev = read_pg_device(*r, 0);
    if (!dev) return dev.error();
    return std::optional<Device>{std::move(*dev)};
}

Status PgStore::each_device(const RowFn<Device>& row) {
    auto r = run("device_list", "SELECT " + std::string(kPgDeviceColumns) + " FROM lscgate.devices ORDER BY name", {});
    if (!r) return r.error();
    for (int i = 0; i < r->rows(); ++i) {
        auto dev = read_pg_device(*r, i);
        if (!dev) return dev.error();
        if (auto s = row(*dev); !s) return s;
    }
    return {};
}

Status PgStore::remove_device(const std::string& name, const std::string& actor) {
    return write([&]() -> Status {
        auto r = run("device_remove", "DELETE FROM lscgate.devices WHERE name = $1", {pg_param(name)});
        if (!r) return r.error();
        if (r->affected_rows() == 0) return fail("no such device: " + name);
        // Certificates stay (history, revocation); only the device and its operations go.
        return insert_audit(actor, "device.remove", name, "");
    });
}

// ---- operations -------------------------------------------------------------

Result<Operation> PgStore::schedule_operation(const std::string& device, const OperationRequest& request,
                                              const std::string& actor) {
    return write([&]() -> Result<Operation> {
        // The device row is locked first: two schedulers of one device queue here
        // instead of colliding on the one-open-operation index.
        auto dev = run("device_lock", "SELECT id FROM lscgate.devices WHERE name = $1 FOR UPDATE", {pg_param(device)});
        if (!dev) return dev.error();
        if (dev->rows() == 0) return fail("no such device: " + device + " (add it with 'lscgate device add')");
        auto device_id = dev->int64(0, 0);
        if (!device_id) return device_id.error();
        const auto now = now_utc();
        auto cancel = run("operation_replace",
                          "UPDATE lscgate.operations SET state='cancelled', last_error='replaced by a newer operation', "
                          "updated_at=to_timestamp($1::bigint), finished_at=to_timestamp($1::bigint) "
                          "WHERE device_id=$2 AND state IN ('pending','in-progress')",
                          {pg_param(now), pg_param(*device_id)});
        if (!cancel) return cancel.error();
        auto ins = run("operation_insert",
                       "INSERT INTO lscgate.operations(device_id, kind, auth_mode, auth_secret, key_type, rsa_bits, "
                       "ec_curve, completes_by, state, created_at, updated_at) VALUES($1, $2, $3, $4, $5, $6, $7, "
                       "to_timestamp($8::bigint), 'pending', to_timestamp($9::bigint), to_timestamp($9::bigint))",
                       {pg_param(*device_id), pg_param(to_string(request.kind)), pg_param(to_string(request.auth_mode)),
                        pg_param(request.auth_secret_hash), pg_param(request.key.type == KeyType::Rsa ? "rsa" : "ec"),
                        pg_param(request.key.rsa_bits), pg_param(curve_name(request.key.curve)),
                        pg_param(request.completes_by), pg_param(now)});
        if (!ins) return ins.error();
        std::string detail = std::string("kind=") + std::string(to_string(request.kind)) +
                             " auth=" + std::string(to_string(request.auth_mode)) + " key=" + request.key.to_string();
        if (request.completes_by) detail += " by=" + format_utc(*request.completes_by);
        if (auto s = insert_audit(actor, "operation.schedule", device, detail); !s) return s.error();
        auto op = open_operation(*device_id);
        if (!op) return op.error();
        if (!op->has_value()) return fail("scheduled operation of " + device + " vanished");
        return std::move(**op);
    });
}

Status PgStore::each_operation_where(const std::string& name, const std::string& where, const PgParams& params,
                                     const RowFn<Operation>& row) {
    auto r = run(name,
                 "SELECT " + std::string(kPgOperationColumns) +
                     " FROM lscgate.operations o JOIN lscgate.devices d ON d.id = o.device_id " + where,
                 params);
    if (!r) return r.error();
    for (int i = 0; i < r->rows(); ++i) {
        auto op = read_pg_operation(*r, i);
        if (!op) return op.error();
        if (auto s = row(*op); !s) return s;
    }
    return {};
}

Result<std::optional<Operation>> PgStore::open_operation(std::int64_t device_id) {
    std::optional<Operation> out;
    auto s = each_operation_where("operation_open", "WHERE o.device_id = $1 AND o.state IN ('pending','in-progress')",
                                  {pg_param(device_id)}, [&out](const Operation& op) -> Status {
                                      out = op;
                                      return {};
                                  });
    if (!s) return s.error();
    return out;
}

Status PgStore::each_operation(const std::optional<std::string>& device, bool include_finished,
                               const RowFn<Operation>& row) {
    // Four fixed texts; the device name is bound.
    static constexpr const char* kOpen = " AND o.state IN ('pending','in-progress')";
    if (device) {
        return include_finished
                   ? each_operation_where("operation_list_dev_all", "WHERE d.name = $1 ORDER BY d.name, o.id",
                                          {pg_param(*device)}, row)
                   : each_operation_where("operation_list_dev_open",
                                          std::string("WHERE d.name = $1") + kOpen + " ORDER BY d.name, o.id",
                                          {pg_param(*device)}, row);
    }
    return include_finished ? each_operation_where("operation_list_all", "ORDER BY d.name, o.id", {}, row)
                            : each_operation_where("operation_list_open",
                                                   std::string("WHERE true") + kOpen + " ORDER BY d.name, o.id", {}, row);
}

Status PgStore::cancel_operation(const std::string& device, const std::string& actor) {
    return write([&]() -> Status {
        auto dev = find_device(device);
        if (!dev) return dev.error();
        if (!dev->has_value()) return fail("no such device: " + device);
        auto r = run("operation_cancel",
                     "UPDATE lscgate.operations SET state='cancelled', last_error='cancelled by administrator', "
                     "updated_at=to_timestamp($1::bigint), finished_at=to_timestamp($1::bigint) "
                     "WHERE device_id=$2 AND state IN ('pending','in-progress')",
                     {pg_param(now_utc()), pg_param((*dev)->id)});
        if (!r) return r.error();
        if (r->affected_rows() == 0) return fail("device " + device + " has no pending operation");
        return insert_audit(actor, "operation.cancel", device, "");
    });
}

Status PgStore::set_state(std::int64_t operation_id, OperationState state, const std::string& error) {
    const bool finished = state != OperationState::Pending && state != OperationState::InProgress;
    const auto now = now_utc();
    auto r = run("operation_set_state",
                 "UPDATE lscgate.operations SET state=$1, last_error=$2, updated_at=to_timestamp($3::bigint), "
                 "finished_at=to_timestamp($4::bigint) WHERE id=$5 AND state IN ('pending','in-progress')",
                 {pg_param(to_string(state)), pg_param(error), pg_param(now),
                  finished ? pg_param(now) : PgParam{}, pg_param(operation_id)});
    if (!r) return r.error();
    if (r->affected_rows() == 0) return fail("operation " + std::to_string(operation_id) + " is no longer open");
    return {};
}

Status PgStore::set_operation_state(std::int64_t operation_id, OperationState state, const std::string& error) {
    return write([&]() -> Status { return set_state(operation_id, state, error); });
}

Result<bool> PgStore::claim_operation(std::int64_t operation_id, UnixTime /*now*/, int stale_after_seconds,
                                      const std::string& claimer) {
    return write([&]() -> Result<bool> {
        // One statement: the row lock makes a second claimer wait for the first
        // one's commit, then re-check the condition on the new row (READ
        // COMMITTED), find it in-progress and fresh, and update nothing.
        // The server's clock both stamps and judges a claim (store.h): the CAPF
        // servers sharing the registry may disagree about the time. Only the
        // claim writes updated_at of an in-progress operation, so its staleness
        // is measured on one clock.
        auto r = run("operation_claim",
                     "UPDATE lscgate.operations SET state='in-progress', last_error=$3, "
                     "updated_at=statement_timestamp(), finished_at=NULL WHERE id=$1 AND (state='pending' OR "
                     "(state='in-progress' AND (updated_at <= statement_timestamp() - make_interval(secs => $2::bigint) "
                     "OR last_error = $3)))",
                     {pg_param(operation_id), pg_param(stale_after_seconds), pg_param(claimer)});
        if (!r) return r.error();
        return r->affected_rows() == 1;
    });
}

Result<int> PgStore::expire_operations(UnixTime now) {
    return write([&]() -> Result<int> {
        auto r = run("operation_expire",
                     "UPDATE lscgate.operations SET state='timed-out', last_error='completes-by deadline passed', "
                     "updated_at=to_timestamp($1::bigint), finished_at=to_timestamp($1::bigint) "
                     "WHERE state='pending' AND completes_by IS NOT NULL AND completes_by < to_timestamp($1::bigint)",
                     {pg_param(now)});
        if (!r) return r.error();
        return static_cast<int>(r->affected_rows());
    });
}

// ---- lockout ----------------------------------------------------------------

Result<bool> PgStore::reserve_auth_attempt(std::int64_t device_id, int threshold, int lock_seconds) {
    return write([&]() -> Result<bool> {
        const auto now = now_utc();
        // One statement, counted before the check: parallel sessions (on any
        // server) queue on the row lock and each sees the previous one's count.
        // An expired lock starts a fresh count.
        auto r = run("device_reserve_attempt",
                     "UPDATE lscgate.devices SET updated_at = to_timestamp($1::bigint), "
                     "auth_failures = CASE WHEN locked_until IS NOT NULL AND locked_until <= to_timestamp($1::bigint) "
                     "THEN 1 ELSE auth_failures + 1 END, "
                     "locked_until = CASE WHEN locked_until IS NOT NULL AND locked_until <= to_timestamp($1::bigint) "
                     "THEN NULL WHEN auth_failures + 1 >= $2 THEN to_timestamp($3::bigint) ELSE locked_until END "
                     "WHERE id = $4 AND (locked_until IS NULL OR locked_until <= to_timestamp($1::bigint)) "
                     "RETURNING auth_failures, name",
                     {pg_param(now), pg_param(threshold), pg_param(now + lock_seconds), pg_param(device_id)});
        if (!r) return r.error();
        if (r->rows() == 0) return false;  // locked out (or no such device): no attempt
        auto failures = r->int64(0, 0);
        if (!failures) return failures.error();
        if (*failures == threshold) {
            // This attempt still runs; from now on none does until the lock expires.
            if (auto s = insert_audit("capf", "device.lockout", r->text(0, 1),
                                      "locked for " + std::to_string(lock_seconds) + "s after " +
                                          std::to_string(threshold) + " authentication attempts without success");
                !s)
                return s.error();
        }
        return true;
    });
}

Status PgStore::release_auth_attempt(std::int64_t device_id, int threshold) {
    return write([&]() -> Status {
        auto r = run("device_release_attempt",
                     "UPDATE lscgate.devices SET updated_at = to_timestamp($1::bigint), "
                     "auth_failures = auth_failures - 1, "
                     "locked_until = CASE WHEN auth_failures - 1 < $2 THEN NULL ELSE locked_until END "
                     "WHERE id = $3 AND auth_failures > 0",
                     {pg_param(now_utc()), pg_param(threshold), pg_param(device_id)});
        if (!r) return r.error();
        return {};
    });
}

Status PgStore::clear_auth_failures(std::int64_t device_id) {
    return write([&]() -> Status {
        auto r = run("device_clear_failures",
                     "UPDATE lscgate.devices SET auth_failures = 0, locked_until = NULL WHERE id = $1 AND "
                     "(auth_failures != 0 OR locked_until IS NOT NULL)",
                     {pg_param(device_id)});
        if (!r) return r.error();
        return {};
    });
}

// ---- CAPF certificates ------------------------------------------------------

Status PgStore::add_capf_certificate(const X509* cert, const std::string& actor) {
    auto facts = describe_certificate(cert);
    if (!facts) return facts.error();
    const std::string pem = certificate_pem(cert);
    return write([&]() -> Status {
        auto demote = run("capf_demote",
                          "UPDATE lscgate.capf_certificates SET status='previous' "
                          "WHERE status='current' AND fingerprint != $1",
                          {pg_param(facts->sha256)});
        if (!demote) return demote.error();
        auto ins = run("capf_insert",
                       "INSERT INTO lscgate.capf_certificates(fingerprint, subject, issuer, serial, not_before, "
                       "not_after, pem, status, created_at) VALUES($1, $2, $3, $4, to_timestamp($5::bigint), "
                       "to_timestamp($6::bigint), $7, 'current', to_timestamp($8::bigint)) "
                       "ON CONFLICT (fingerprint) DO UPDATE SET status='current'",
                       {pg_param(facts->sha256), pg_param(facts->subject), pg_param(facts->issuer),
                        pg_param(facts->serial_hex), pg_param(facts->not_before), pg_param(facts->not_after),
                        pg_param(pem), pg_param(now_utc())});
        if (!ins) return ins.error();
        return insert_audit(actor, "capf.install", "", "subject=" + facts->subject + " sha256=" + facts->sha256);
    });
}

Result<CapfCertificateRecord> PgStore::retire_capf_certificate(const std::string& sha256_prefix,
                                                               const std::string& actor) {
    std::string prefix;
    for (char c : sha256_prefix)
        if (c != ':') prefix.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    if (prefix.size() < 8) return fail("give at least 8 hex digits of the SHA-256 fingerprint");
    return write([&]() -> Result<CapfCertificateRecord> {
        auto all = list_capf_certificates();
        if (!all) return all.error();
        const CapfCertificateRecord* match = nullptr;
        for (const auto& rec : *all) {
            if (rec.facts.sha256.rfind(prefix, 0) != 0) continue;
            if (match != nullptr) return fail("fingerprint prefix " + prefix + " matches several CAPF certificates");
            match = &rec;
        }
        if (match == nullptr) return fail("no CAPF certificate with fingerprint " + prefix + "...");
        if (match->status == CapfStatus::Current)
            return fail("the current CAPF certificate cannot be retired (rotate first: init --force or capf import)");
        if (match->status == CapfStatus::Retired) return fail("that CAPF certificate is already retired");
        // Conditional: a rotation meanwhile (this one current again) is not undone.
        auto r = run("capf_retire",
                     "UPDATE lscgate.capf_certificates SET status='retired' WHERE fingerprint=$1 AND status='previous'",
                     {pg_param(match->facts.sha256)});
        if (!r) return r.error();
        if (r->affected_rows() != 1) return fail("that CAPF certificate changed meanwhile; not retired");
        if (auto s = insert_audit(actor, "capf.retire", "",
                                  "subject=" + match->facts.subject + " sha256=" + match->facts.sha256);
            !s)
            return s.error();
        CapfCertificateRecord out = *match;
        out.status = CapfStatus::Retired;
        return out;
    });
}

Result<std::vector<CapfCertificateRecord>> PgStore::list_capf_certificates() {
    auto r = run("capf_list",
                 "SELECT id, status, pem, " + pg_epoch("created_at") +
                     " FROM lscgate.capf_certificates ORDER BY CASE status WHEN 'current' THEN 0 "
                     "WHEN 'previous' THEN 1 ELSE 2 END, id DESC",
                 {});
    if (!r) return r.error();
    std::vector<CapfCertificateRecord> out;
    for (int i = 0; i < r->rows(); ++i) {
        CapfCertificateRecord rec;
        auto id = r->int64(i, 0);
        auto created = r->int64(i, 3);
        if (!id || !created) return fail("corrupt CAPF certificate row");
        rec.id = *id;
        const auto status = r->text(i, 1);
        rec.status = status == "current"    ? CapfStatus::Current
                     : status == "previous" ? CapfStatus::Previous
                                            : CapfStatus::Retired;
        rec.pem = r->text(i, 2);
        rec.created_at = *created;
        auto cert = parse_certificate_pem(rec.pem);
        if (!cert) return fail("corrupt CAPF certificate row " + std::to_string(rec.id));
        auto facts = describe_certificate(cert->get());
        if (!facts) return facts.error();
        rec.facts = std::move(*facts);
        out.push_back(std::move(rec));
    }
    return out;
}

}  // namespace lscgate
