// PgStore: certificates — the life of an issued LSC (recorded unconfirmed,
// confirmed or proven, discarded), fetched and deleted certificates,
// revocation, lookups; and the row readers shared with pg_store.cpp.

#include "registry/postgresql/pg_store.h"

#include "pki/certificate.h"
#include "registry/postgresql/pg_store_rows.h"

namespace lscgate {

// ---- row readers --------------------------------------------------------------

Result<Device> read_pg_device(const PgResult& r, int i) {
    Device d;
    auto id = r.int64(i, 0);
    auto failures = r.int64(i, 5);
    auto locked = r.optional_int64(i, 6);
    auto created = r.int64(i, 7);
    auto updated = r.int64(i, 8);
    if (!id || !failures || !locked || !created || !updated) return fail("corrupt device row");
    d.id = *id;
    d.name = r.text(i, 1);
    d.model = r.text(i, 2);
    d.description = r.text(i, 3);
    d.security_profile = r.text(i, 4);
    d.auth_failures = static_cast<int>(*failures);
    d.locked_until = *locked;
    d.created_at = *created;
    d.updated_at = *updated;
    return d;
}

Result<Operation> read_pg_operation(const PgResult& r, int i) {
    Operation op;
    auto id = r.int64(i, 0);
    auto device_id = r.int64(i, 1);
    auto rsa_bits = r.int64(i, 7);
    auto by = r.optional_int64(i, 9);
    auto created = r.int64(i, 12);
    auto updated = r.int64(i, 13);
    auto finished = r.optional_int64(i, 14);
    if (!id || !device_id || !rsa_bits || !by || !created || !updated || !finished) return fail("corrupt operation row");
    op.id = *id;
    op.device_id = *device_id;
    op.device_name = r.text(i, 2);
    auto kind = parse_operation_kind(r.text(i, 3));
    auto mode = parse_auth_mode(r.text(i, 4));
    auto state = parse_operation_state(r.text(i, 10));
    if (!kind || !mode || !state) return fail("corrupt operation row " + std::to_string(op.id));
    op.request.kind = *kind;
    op.request.auth_mode = *mode;
    op.request.auth_secret_hash = r.text(i, 5);
    auto spec = parse_key_spec(r.text(i, 6) == "rsa" ? "rsa:" + std::to_string(*rsa_bits) : "ec:" + r.text(i, 8));
    if (!spec) return fail("corrupt key parameters in operation " + std::to_string(op.id));
    op.request.key = *spec;
    op.request.completes_by = *by;
    op.state = *state;
    op.last_error = r.text(i, 11);
    op.created_at = *created;
    op.updated_at = *updated;
    op.finished_at = *finished;
    return op;
}

Result<CertificateRecord> read_pg_certificate(const PgResult& r, int i) {
    CertificateRecord c;
    auto id = r.int64(i, 0);
    auto not_before = r.int64(i, 9);
    auto not_after = r.int64(i, 10);
    auto bits = r.int64(i, 12);
    auto op = r.optional_int64(i, 14);
    auto revoked = r.optional_int64(i, 15);
    auto created = r.int64(i, 17);
    if (!id || !not_before || !not_after || !bits || !op || !revoked || !created) return fail("corrupt certificate row");
    c.id = *id;
    c.device_name = r.text(i, 1);
    auto kind = parse_certificate_kind(r.text(i, 2));
    auto status = parse_certificate_status(r.text(i, 3));
    if (!kind || !status) return fail("corrupt certificate row " + std::to_string(c.id));
    c.kind = *kind;
    c.status = *status;
    c.facts.serial_hex = r.text(i, 4);
    c.facts.sha256 = r.text(i, 5);
    c.facts.subject = r.text(i, 6);
    c.facts.issuer = r.text(i, 7);
    c.facts.issuer_oneline = r.text(i, 8);
    c.facts.not_before = *not_before;
    c.facts.not_after = *not_after;
    c.facts.key_type = r.text(i, 11);
    c.facts.key_bits = static_cast<int>(*bits);
    c.pem = r.text(i, 13);
    c.operation_id = *op;
    c.revoked_at = *revoked;
    c.revocation_reason = r.text(i, 16);
    c.created_at = *created;
    return c;
}

// ---- queries ----------------------------------------------------------------

Result<std::vector<CertificateRecord>> PgStore::certificates(const std::string& name, const std::string& where,
                                                             const PgParams& params) {
    // `where` is one of this file's fixed clauses; values are bound.
    auto r = run(name, "SELECT " + std::string(kPgCertificateColumns) + " FROM lscgate.certificates " + where, params);
    if (!r) return r.error();
    std::vector<CertificateRecord> out;
    out.reserve(static_cast<std::size_t>(r->rows()));
    for (int i = 0; i < r->rows(); ++i) {
        auto c = read_pg_certificate(*r, i);
        if (!c) return c.error();
        out.push_back(std::move(*c));
    }
    return out;
}

Status PgStore::each_certificate(const std::optional<std::string>& device, const RowFn<CertificateRecord>& row) {
    auto rows = device ? certificates("certificate_list_dev", "WHERE device_name = $1 ORDER BY id", {pg_param(*device)})
                       : certificates("certificate_list_all", "ORDER BY device_name, id", {});
    if (!rows) return rows.error();
    for (const auto& c : *rows)
        if (auto s = row(c); !s) return s;
    return {};
}

Result<std::optional<CertificateRecord>> PgStore::find_certificate_by_fingerprint(const std::string& sha256_hex) {
    auto rows = certificates("certificate_by_fingerprint", "WHERE fingerprint = $1", {pg_param(sha256_hex)});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<CertificateRecord>{};
    return std::optional<CertificateRecord>{std::move(rows->front())};
}

Result<std::optional<CertificateRecord>> PgStore::active_lsc(const std::string& device) {
    auto rows = certificates("certificate_active_lsc", "WHERE device_name = $1 AND kind = 'lsc' AND status = 'active'",
                             {pg_param(device)});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<CertificateRecord>{};
    return std::optional<CertificateRecord>{std::move(rows->front())};
}

Result<std::int64_t> PgStore::insert_certificate(const std::string& device, CertificateKind kind,
                                                 CertificateStatus status, const CertificateFacts& facts,
                                                 const std::string& pem, std::optional<std::int64_t> operation_id) {
    auto r = run("certificate_insert",
                 "INSERT INTO lscgate.certificates(device_name, kind, serial, fingerprint, subject, issuer, "
                 "issuer_oneline, not_before, not_after, key_type, key_bits, pem, status, operation_id, created_at) "
                 "VALUES($1, $2, $3, $4, $5, $6, $7, to_timestamp($8::bigint), to_timestamp($9::bigint), $10, $11, "
                 "$12, $13, $14, to_timestamp($15::bigint)) RETURNING id",
                 {pg_param(device), pg_param(to_string(kind)), pg_param(facts.serial_hex), pg_param(facts.sha256),
                  pg_param(facts.subject), pg_param(facts.issuer), pg_param(facts.issuer_oneline),
                  pg_param(facts.not_before), pg_param(facts.not_after), pg_param(facts.key_type),
                  pg_param(facts.key_bits), pg_param(pem), pg_param(to_string(status)), pg_param(operation_id),
                  pg_param(now_utc())});
    if (!r) return r.error();
    return r->int64(0, 0);
}

// ---- the life of an issued LSC ------------------------------------------------

Result<CertificateRecord> PgStore::record_lsc(const Operation& op, const X509* cert) {
    auto facts = describe_certificate(cert);
    if (!facts) return facts.error();
    CertificateRecord rec;
    rec.device_name = op.device_name;
    rec.kind = CertificateKind::Lsc;
    rec.status = CertificateStatus::Unconfirmed;
    rec.facts = std::move(*facts);
    rec.pem = certificate_pem(cert);
    rec.operation_id = op.id;
    auto id = insert_certificate(op.device_name, rec.kind, rec.status, rec.facts, rec.pem, op.id);
    if (!id) return id.error();
    rec.id = *id;
    if (auto s = insert_audit("capf", "lsc.record", op.device_name,
                              "serial=" + rec.facts.serial_hex + " sha256=" + rec.facts.sha256 + " status=unconfirmed");
        !s)
        return s.error();
    rec.created_at = now_utc();
    return rec;
}

Result<CertificateRecord> PgStore::record_issued_lsc(const Operation& op, const X509* cert) {
    return write([&]() { return record_lsc(op, cert); });
}

Result<CertificateRecord> PgStore::promote_lsc(std::int64_t id, const std::string& how) {
    // FOR UPDATE: a concurrent revoke or discard of this row waits for us (or we for it).
    auto rows = certificates("certificate_lock_by_id", "WHERE id = $1 FOR UPDATE", {pg_param(id)});
    if (!rows) return rows.error();
    if (rows->empty()) return fail("certificate " + std::to_string(id) + " is not in the registry");
    CertificateRecord rec = std::move(rows->front());
    if (rec.kind != CertificateKind::Lsc) return fail("certificate " + std::to_string(id) + " is not an LSC");
    if (rec.status == CertificateStatus::Active) return rec;  // confirmed twice: nothing to do
    if (rec.status != CertificateStatus::Unconfirmed)
        return fail("LSC serial " + rec.facts.serial_hex + " is " + std::string(to_string(rec.status)) +
                    ", not unconfirmed; not made active");
    // The one active LSC per device (a unique index): supersede first, then activate.
    auto supersede = run("certificate_supersede_others",
                         "UPDATE lscgate.certificates SET status='superseded' WHERE device_name=$1 AND kind='lsc' AND "
                         "status IN ('active','unconfirmed') AND id != $2",
                         {pg_param(rec.device_name), pg_param(id)});
    if (!supersede) return supersede.error();
    const auto superseded = supersede->affected_rows();
    auto activate = run("certificate_activate",
                        "UPDATE lscgate.certificates SET status='active' WHERE id=$1 AND status='unconfirmed'",
                        {pg_param(id)});
    if (!activate) return activate.error();
    if (activate->affected_rows() != 1)
        return fail("LSC serial " + rec.facts.serial_hex + " changed meanwhile; not made active");
    if (auto s = insert_audit("capf", "lsc.issue", rec.device_name,
                              "serial=" + rec.facts.serial_hex + " sha256=" + rec.facts.sha256 + " not_after=" +
                                  format_utc(rec.facts.not_after) + " " + how +
                                  " superseded=" + std::to_string(superseded));
        !s)
        return s.error();
    rec.status = CertificateStatus::Active;
    return rec;
}

Result<CertificateRecord> PgStore::confirm_lsc(const Operation& op, std::int64_t certificate_id) {
    // The phone said it stored this LSC just now: it is the phone's certificate,
    // even if another session's LSC was confirmed in between (the later answer wins).
    auto rec = promote_lsc(certificate_id, "confirmed by the phone");
    if (!rec) return rec.error();
    // An operation cancelled or replaced meanwhile stays as it is.
    const auto now = now_utc();
    auto r = run("operation_succeed",
                 "UPDATE lscgate.operations SET state='succeeded', last_error='', updated_at=to_timestamp($1::bigint), "
                 "finished_at=to_timestamp($1::bigint) WHERE id=$2 AND state IN ('pending','in-progress')",
                 {pg_param(now), pg_param(op.id)});
    if (!r) return r.error();
    return rec;
}

Result<CertificateRecord> PgStore::confirm_issued_lsc(const Operation& op, std::int64_t certificate_id) {
    return write([&]() { return confirm_lsc(op, certificate_id); });
}

Status PgStore::discard_unconfirmed_lsc(std::int64_t certificate_id, const std::string& why) {
    return write([&]() -> Status {
        auto r = run("certificate_discard",
                     "DELETE FROM lscgate.certificates WHERE id=$1 AND status='unconfirmed' RETURNING device_name, serial",
                     {pg_param(certificate_id)});
        if (!r) return r.error();
        if (r->rows() == 0) return {};  // confirmed or already gone: nothing to discard
        return insert_audit("capf", "lsc.discard", r->text(0, 0), "serial=" + r->text(0, 1) + " " + why);
    });
}

Result<CertificateRecord> PgStore::confirm_lsc_by_possession(std::int64_t certificate_id) {
    // The stale case commits its "superseded" and still reports a failure, so it
    // is told apart from the write's result by this flag.
    std::optional<Error> refusal;
    auto result = write([&]() -> Result<CertificateRecord> {
        refusal.reset();
        auto rows = certificates("certificate_lock_by_id", "WHERE id = $1 FOR UPDATE", {pg_param(certificate_id)});
        if (!rows) return rows.error();
        if (rows->empty()) return fail("certificate " + std::to_string(certificate_id) + " is not in the registry");
        const CertificateRecord rec = rows->front();
        if (rec.status == CertificateStatus::Active) return rec;
        if (rec.status != CertificateStatus::Unconfirmed)
            return fail(ErrorKind::AuthFailed,
                        "LSC serial " + rec.facts.serial_hex + " is " + std::string(to_string(rec.status)));
        auto newer = run("certificate_newer_active",
                         "SELECT count(*) FROM lscgate.certificates WHERE device_name=$1 AND kind='lsc' AND "
                         "status='active' AND id > $2",
                         {pg_param(rec.device_name), pg_param(certificate_id)});
        if (!newer) return newer.error();
        auto n = newer->int64(0, 0);
        if (!n) return n.error();
        if (*n > 0) {
            // Older than the device's active LSC: it can never become current again.
            auto st = run("certificate_supersede_one",
                          "UPDATE lscgate.certificates SET status='superseded' WHERE id=$1 AND status='unconfirmed'",
                          {pg_param(certificate_id)});
            if (!st) return st.error();
            refusal = fail(ErrorKind::AuthFailed, "LSC serial " + rec.facts.serial_hex +
                                                      " was never confirmed and is older than the active LSC");
            return rec;  // committed; the refusal is returned below
        }
        return promote_lsc(certificate_id, "confirmed by proof of possession");
    });
    if (result && refusal) return *refusal;
    return result;
}

Result<CertificateRecord> PgStore::commit_issued_lsc(const Operation& op, const X509* cert) {
    return write([&]() -> Result<CertificateRecord> {
        auto recorded = record_lsc(op, cert);
        if (!recorded) return recorded.error();
        return confirm_lsc(op, recorded->id);
    });
}

Status PgStore::commit_fetched_certificate(const Operation& op, const X509* cert, CertificateKind kind) {
    auto facts = describe_certificate(cert);
    if (!facts) return facts.error();
    const std::string pem = certificate_pem(cert);
    return write([&]() -> Status {
        auto known = find_certificate_by_fingerprint(facts->sha256);
        if (!known) return known.error();
        // A certificate we issued keeps its own row and status; only unknown ones are recorded as fetched.
        if (!known->has_value()) {
            if (auto id = insert_certificate(op.device_name, kind, CertificateStatus::Fetched, *facts, pem, op.id); !id)
                return id.error();
        }
        if (auto s = set_state(op.id, OperationState::Succeeded, ""); !s) return s;
        return insert_audit("capf", "certificate.fetch", op.device_name,
                            "kind=" + std::string(to_string(kind)) + " sha256=" + facts->sha256 +
                                (known->has_value() ? " (already registered)" : ""));
    });
}

Status PgStore::commit_deleted_lsc(const Operation& op) {
    return write([&]() -> Status {
        // Whatever LSC the phone held is gone: the active one and any unconfirmed one.
        auto r = run("certificate_remove_device_lsc",
                     "UPDATE lscgate.certificates SET status='removed' WHERE device_name=$1 AND kind='lsc' AND "
                     "status IN ('active','unconfirmed')",
                     {pg_param(op.device_name)});
        if (!r) return r.error();
        const auto removed = r->affected_rows();
        if (auto s = set_state(op.id, OperationState::Succeeded, ""); !s) return s;
        return insert_audit("capf", "lsc.delete", op.device_name, "removed=" + std::to_string(removed));
    });
}

// ---- revocation ---------------------------------------------------------------

Result<CertificateRecord> PgStore::revoke(const CertificateRecord& target, const std::string& reason,
                                          const std::string& actor) {
    if (target.status == CertificateStatus::Revoked)
        return fail("certificate serial " + target.facts.serial_hex + " is already revoked");
    const auto now = now_utc();
    auto r = run("certificate_revoke",
                 "UPDATE lscgate.certificates SET status='revoked', revoked_at=to_timestamp($1::bigint), "
                 "revocation_reason=$2 WHERE id=$3 AND status != 'revoked'",
                 {pg_param(now), pg_param(reason), pg_param(target.id)});
    if (!r) return r.error();
    if (r->affected_rows() == 0)
        return fail("certificate serial " + target.facts.serial_hex + " changed meanwhile; not revoked");
    if (auto s = insert_audit(actor, "certificate.revoke", target.device_name,
                              "serial=" + target.facts.serial_hex + " reason=" + reason +
                                  " was=" + std::string(to_string(target.status)));
        !s)
        return s.error();
    CertificateRecord out = target;
    out.status = CertificateStatus::Revoked;
    out.revoked_at = now;
    out.revocation_reason = reason;
    return out;
}

Result<CertificateRecord> PgStore::revoke_active_lsc(const std::string& device, const std::string& reason,
                                                     const std::string& actor) {
    return write([&]() -> Result<CertificateRecord> {
        // Rows locked as they are read: a confirmation racing with the revoke waits
        // for it, then finds its LSC revoked and refuses to make it active.
        auto rows = certificates("certificate_lock_device_lsc",
                                 "WHERE device_name = $1 AND kind = 'lsc' AND status IN ('active','unconfirmed') "
                                 "ORDER BY status = 'active' DESC, id DESC FOR UPDATE",
                                 {pg_param(device)});
        if (!rows) return rows.error();
        if (rows->empty()) return fail(ErrorKind::Input, device + " has no active LSC to revoke");
        std::optional<CertificateRecord> first;
        for (const auto& row : *rows) {
            auto r = revoke(row, reason, actor);
            if (!r) return r.error();
            if (!first) first = std::move(*r);
        }
        return std::move(*first);
    });
}

Result<CertificateRecord> PgStore::revoke_serial(const std::string& serial_hex, const std::string& reason,
                                                 const std::string& actor) {
    return write([&]() -> Result<CertificateRecord> {
        // Rows merely fetched from phones are unverified and never what gets revoked.
        auto rows = certificates("certificate_lock_by_serial",
                                 "WHERE serial = $1 AND status != 'fetched' ORDER BY id DESC FOR UPDATE",
                                 {pg_param(serial_hex)});
        if (!rows) return rows.error();
        if (rows->empty()) return fail("no certificate with serial " + serial_hex);
        if (rows->size() > 1)
            return fail("serial " + serial_hex + " matches several certificates (different issuers); revoke by device");
        return revoke(rows->front(), reason, actor);
    });
}

}  // namespace lscgate
