// Certificates in the SQLite registry: inserting, committing the result of a
// fetch or delete, listing, revocation (LSCs) and the CAPF certificates
// (current, previous, retired). The issued-LSC life cycle is sqlite_store_lsc.cpp.

#include "registry/sqlite_store.h"

#include "pki/certificate.h"

#include <cctype>

namespace lscgate {

namespace {

constexpr const char* kCertificateColumns =
    "id, device_name, kind, status, serial, fingerprint, subject, issuer, issuer_oneline, not_before, not_after, "
    "key_type, key_bits, pem, operation_id, revoked_at, revocation_reason, created_at";

Result<CertificateRecord> read_certificate(const SqliteStatement& st) {
    CertificateRecord c;
    c.id = st.column_int(0);
    c.device_name = st.column_text(1);
    auto kind = parse_certificate_kind(st.column_text(2));
    auto status = parse_certificate_status(st.column_text(3));
    if (!kind || !status) return fail("corrupt certificate row " + std::to_string(c.id));
    c.kind = *kind;
    c.status = *status;
    c.facts.serial_hex = st.column_text(4);
    c.facts.sha256 = st.column_text(5);
    c.facts.subject = st.column_text(6);
    c.facts.issuer = st.column_text(7);
    c.facts.issuer_oneline = st.column_text(8);
    c.facts.not_before = st.column_int(9);
    c.facts.not_after = st.column_int(10);
    c.facts.key_type = st.column_text(11);
    c.facts.key_bits = static_cast<int>(st.column_int(12));
    c.pem = st.column_text(13);
    c.operation_id = st.column_optional_int(14);
    c.revoked_at = st.column_optional_int(15);
    c.revocation_reason = st.column_text(16);
    c.created_at = st.column_int(17);
    return c;
}


}  // namespace

Status SqliteStore::insert_certificate(const std::string& device, CertificateKind kind, CertificateStatus status,
                                 const CertificateFacts& facts, const std::string& pem,
                                 std::optional<std::int64_t> operation_id) {
    auto st = db_.prepare(
        "INSERT INTO certificates(device_name, kind, serial, fingerprint, subject, issuer, issuer_oneline, "
        "not_before, not_after, key_type, key_bits, pem, status, operation_id, created_at) "
        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st) return st.error();
    st->bind(1, device)
        .bind(2, to_string(kind))
        .bind(3, facts.serial_hex)
        .bind(4, facts.sha256)
        .bind(5, facts.subject)
        .bind(6, facts.issuer)
        .bind(7, facts.issuer_oneline)
        .bind(8, facts.not_before)
        .bind(9, facts.not_after)
        .bind(10, facts.key_type)
        .bind(11, facts.key_bits)
        .bind(12, pem)
        .bind(13, to_string(status))
        .bind(14, operation_id)
        .bind(15, now_utc());
    return st->run();
}

Result<CertificateRecord> SqliteStore::commit_issued_lsc(const Operation& op, const X509* cert) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto recorded = record_issued_lsc(op, cert);
    if (!recorded) return recorded.error();
    auto confirmed = confirm_issued_lsc(op, recorded->id);
    if (!confirmed) return confirmed.error();
    if (auto s = tx->commit(); !s) return s.error();
    return confirmed;
}

Status SqliteStore::commit_fetched_certificate(const Operation& op, const X509* cert, CertificateKind kind) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto facts = describe_certificate(cert);
    if (!facts) return facts.error();
    auto known = find_certificate_by_fingerprint(facts->sha256);
    if (!known) return known.error();
    // A certificate we issued keeps its own row and status; only unknown ones are recorded as fetched.
    if (!known->has_value()) {
        if (auto s = insert_certificate(op.device_name, kind, CertificateStatus::Fetched, *facts, certificate_pem(cert), op.id); !s)
            return s;
    }
    if (auto s = set_operation_state(op.id, OperationState::Succeeded, ""); !s) return s;
    if (auto s = audit("capf", "certificate.fetch", op.device_name,
                       "kind=" + std::string(to_string(kind)) + " sha256=" + facts->sha256 +
                           (known->has_value() ? " (already registered)" : ""));
        !s)
        return s;
    return tx->commit();
}

Status SqliteStore::commit_deleted_lsc(const Operation& op) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    // Whatever LSC the phone held is gone: the active one and any unconfirmed one.
    auto st = db_.prepare(
        "UPDATE certificates SET status='removed' WHERE device_name=? AND kind='lsc' AND "
        "status IN ('active','unconfirmed')");
    if (!st) return st.error();
    st->bind(1, op.device_name);
    if (auto s = st->run(); !s) return s;
    const int removed = db_.changes();
    if (auto s = set_operation_state(op.id, OperationState::Succeeded, ""); !s) return s;
    if (auto s = audit("capf", "lsc.delete", op.device_name, "removed=" + std::to_string(removed)); !s) return s;
    return tx->commit();
}

Status SqliteStore::each_certificate_where(const std::string& where, const std::optional<std::string>& arg,
                                     const RowFn<CertificateRecord>& row) {
    // `where` is one of this file's fixed clauses; the value is bound.
    auto st = db_.prepare(std::string("SELECT ") + kCertificateColumns + " FROM certificates " + where);
    if (!st) return st.error();
    if (arg) st->bind(1, *arg);
    while (true) {
        auto r = st->step();
        if (!r) return r.error();
        if (!*r) return {};
        auto c = read_certificate(*st);
        if (!c) return c.error();
        if (auto s = row(*c); !s) return s;
    }
}

Result<std::vector<CertificateRecord>> SqliteStore::query_certificates(const std::string& where,
                                                                 const std::optional<std::string>& arg) {
    std::vector<CertificateRecord> out;
    if (auto s = each_certificate_where(where, arg, collect_into(out)); !s) return s.error();
    return out;
}

Result<CertificateRecord> SqliteStore::revoke(const CertificateRecord& target, const std::string& reason,
                                        const std::string& actor) {
    if (target.status == CertificateStatus::Revoked)
        return fail("certificate serial " + target.facts.serial_hex + " is already revoked");
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    const auto now = now_utc();
    auto st = db_.prepare(
        "UPDATE certificates SET status='revoked', revoked_at=?, revocation_reason=? WHERE id=? AND status != 'revoked'");
    if (!st) return st.error();
    st->bind(1, now).bind(2, reason).bind(3, target.id);
    if (auto s = st->run(); !s) return s.error();
    if (db_.changes() == 0) return fail("certificate serial " + target.facts.serial_hex + " changed meanwhile; not revoked");
    if (auto s = audit(actor, "certificate.revoke", target.device_name,
                       "serial=" + target.facts.serial_hex + " reason=" + reason + " was=" +
                           std::string(to_string(target.status)));
        !s)
        return s.error();
    if (auto s = tx->commit(); !s) return s.error();
    CertificateRecord out = target;
    out.status = CertificateStatus::Revoked;
    out.revoked_at = now;
    out.revocation_reason = reason;
    return out;
}

Result<CertificateRecord> SqliteStore::revoke_active_lsc(const std::string& device, const std::string& reason,
                                                   const std::string& actor) {
    // The writer lock first, then the rows: an LSC recorded in between would
    // otherwise stay valid (RADIUS accepts an unconfirmed one).
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    // An unconfirmed LSC may be what the phone holds (RADIUS accepts it): it goes too.
    auto rows = query_certificates(
        "WHERE device_name = ? AND kind = 'lsc' AND status IN ('active','unconfirmed') "
        "ORDER BY status = 'active' DESC, id DESC",
        device);
    if (!rows) return rows.error();
    if (rows->empty()) return fail(ErrorKind::Input, device + " has no active LSC to revoke");
    std::optional<CertificateRecord> first;
    for (const auto& row : *rows) {
        auto r = revoke(row, reason, actor);
        if (!r) return r.error();
        if (!first) first = std::move(*r);
    }
    if (auto s = tx->commit(); !s) return s.error();
    return std::move(*first);
}

Result<CertificateRecord> SqliteStore::revoke_serial(const std::string& serial_hex, const std::string& reason,
                                               const std::string& actor) {
    // Rows merely fetched from phones are unverified and never what gets revoked.
    auto rows = query_certificates("WHERE serial = ? AND status != 'fetched' ORDER BY id DESC", serial_hex);
    if (!rows) return rows.error();
    if (rows->empty()) return fail("no certificate with serial " + serial_hex);
    if (rows->size() > 1) return fail("serial " + serial_hex + " matches several certificates (different issuers); revoke by device");
    return revoke(rows->front(), reason, actor);
}

Status SqliteStore::each_certificate(const std::optional<std::string>& device, const RowFn<CertificateRecord>& row) {
    return each_certificate_where(device ? "WHERE device_name = ? ORDER BY id" : "ORDER BY device_name, id", device, row);
}

Result<std::optional<CertificateRecord>> SqliteStore::find_certificate_by_fingerprint(const std::string& sha256_hex) {
    auto rows = query_certificates("WHERE fingerprint = ?", sha256_hex);
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<CertificateRecord>{};
    return std::optional<CertificateRecord>{std::move(rows->front())};
}

Result<std::optional<CertificateRecord>> SqliteStore::active_lsc(const std::string& device) {
    auto rows = query_certificates("WHERE device_name = ? AND kind = 'lsc' AND status = 'active'", device);
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<CertificateRecord>{};
    return std::optional<CertificateRecord>{std::move(rows->front())};
}

Status SqliteStore::add_capf_certificate(const X509* cert, const std::string& actor) {
    auto facts = describe_certificate(cert);
    if (!facts) return facts.error();
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto demote = db_.prepare("UPDATE capf_certificates SET status='previous' WHERE status='current' AND fingerprint != ?");
    if (!demote) return demote.error();
    demote->bind(1, facts->sha256);
    if (auto s = demote->run(); !s) return s;
    auto st = db_.prepare(
        "INSERT INTO capf_certificates(fingerprint, subject, issuer, serial, not_before, not_after, pem, status, "
        "created_at) VALUES(?,?,?,?,?,?,?,'current',?) ON CONFLICT(fingerprint) DO UPDATE SET status='current'");
    if (!st) return st.error();
    st->bind(1, facts->sha256)
        .bind(2, facts->subject)
        .bind(3, facts->issuer)
        .bind(4, facts->serial_hex)
        .bind(5, facts->not_before)
        .bind(6, facts->not_after)
        .bind(7, certificate_pem(cert))
        .bind(8, now_utc());
    if (auto s = st->run(); !s) return s;
    if (auto s = audit(actor, "capf.install", "", "subject=" + facts->subject + " sha256=" + facts->sha256); !s) return s;
    return tx->commit();
}

Result<CapfCertificateRecord> SqliteStore::retire_capf_certificate(const std::string& sha256_prefix, const std::string& actor) {
    std::string prefix;
    for (char c : sha256_prefix)
        if (c != ':') prefix.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    if (prefix.size() < 8) return fail("give at least 8 hex digits of the SHA-256 fingerprint");
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
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto st = db_.prepare("UPDATE capf_certificates SET status='retired' WHERE fingerprint=?");
    if (!st) return st.error();
    st->bind(1, match->facts.sha256);
    if (auto s = st->run(); !s) return s.error();
    if (auto s = audit(actor, "capf.retire", "", "subject=" + match->facts.subject + " sha256=" + match->facts.sha256); !s)
        return s.error();
    if (auto s = tx->commit(); !s) return s.error();
    CapfCertificateRecord out = *match;
    out.status = CapfStatus::Retired;
    return out;
}

Result<std::vector<CapfCertificateRecord>> SqliteStore::list_capf_certificates() {
    auto st = db_.prepare(
        "SELECT id, status, pem, created_at FROM capf_certificates ORDER BY CASE status WHEN 'current' THEN 0 "
        "WHEN 'previous' THEN 1 ELSE 2 END, id DESC");
    if (!st) return st.error();
    std::vector<CapfCertificateRecord> out;
    while (true) {
        auto r = st->step();
        if (!r) return r.error();
        if (!*r) break;
        CapfCertificateRecord rec;
        rec.id = st->column_int(0);
        const auto status = st->column_text(1);
        rec.status = status == "current" ? CapfStatus::Current
                     : status == "previous" ? CapfStatus::Previous
                                            : CapfStatus::Retired;
        rec.pem = st->column_text(2);
        rec.created_at = st->column_int(3);
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
