// The life of an issued LSC in the registry (issue 7 item 4): recorded as
// unconfirmed before the phone sees it, active once the phone confirms it (or
// proves possession of it later), deleted if it never reached the phone.

#include "registry/store.h"

#include "pki/certificate.h"

namespace lscgate {
namespace {

std::string id_text(std::int64_t id) { return std::to_string(id); }

}  // namespace

Result<CertificateRecord> Store::record_issued_lsc(const Operation& op, const X509* cert) {
    auto facts = describe_certificate(cert);
    if (!facts) return facts.error();
    CertificateRecord rec;
    rec.device_name = op.device_name;
    rec.kind = CertificateKind::Lsc;
    rec.status = CertificateStatus::Unconfirmed;
    rec.facts = std::move(*facts);
    rec.pem = certificate_pem(cert);
    rec.operation_id = op.id;
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    if (auto s = insert_certificate(op.device_name, rec.kind, rec.status, rec.facts, rec.pem, op.id); !s)
        return s.error();
    rec.id = db_.last_insert_id();
    if (auto s = audit("capf", "lsc.record", op.device_name,
                       "serial=" + rec.facts.serial_hex + " sha256=" + rec.facts.sha256 + " status=unconfirmed");
        !s)
        return s.error();
    if (auto s = tx->commit(); !s) return s.error();
    rec.created_at = now_utc();
    return rec;
}

Result<CertificateRecord> Store::promote_lsc(std::int64_t id, const std::string& how) {
    auto rows = query_certificates("WHERE id = CAST(? AS INTEGER)", id_text(id));
    if (!rows) return rows.error();
    if (rows->empty()) return fail("certificate " + id_text(id) + " is not in the registry");
    CertificateRecord rec = std::move(rows->front());
    if (rec.kind != CertificateKind::Lsc) return fail("certificate " + id_text(id) + " is not an LSC");
    if (rec.status == CertificateStatus::Active) return rec;  // confirmed twice: nothing to do
    if (rec.status != CertificateStatus::Unconfirmed)
        return fail("LSC serial " + rec.facts.serial_hex + " is " + std::string(to_string(rec.status)) +
                    ", not unconfirmed; not made active");
    // The one active LSC per device (a unique index): supersede first, then activate.
    auto supersede = db_.prepare(
        "UPDATE certificates SET status='superseded' WHERE device_name=? AND kind='lsc' AND "
        "status IN ('active','unconfirmed') AND id != ?");
    if (!supersede) return supersede.error();
    supersede->bind(1, rec.device_name).bind(2, id);
    if (auto s = supersede->run(); !s) return s.error();
    const int superseded = db_.changes();
    auto activate = db_.prepare("UPDATE certificates SET status='active' WHERE id=? AND status='unconfirmed'");
    if (!activate) return activate.error();
    activate->bind(1, id);
    if (auto s = activate->run(); !s) return s.error();
    if (db_.changes() != 1) return fail("LSC serial " + rec.facts.serial_hex + " changed meanwhile; not made active");
    if (auto s = audit("capf", "lsc.issue", rec.device_name,
                       "serial=" + rec.facts.serial_hex + " sha256=" + rec.facts.sha256 + " not_after=" +
                           format_utc(rec.facts.not_after) + " " + how + " superseded=" + std::to_string(superseded));
        !s)
        return s.error();
    rec.status = CertificateStatus::Active;
    return rec;
}

Result<CertificateRecord> Store::confirm_issued_lsc(const Operation& op, std::int64_t certificate_id) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    // The phone said it stored this LSC just now: it is the phone's certificate,
    // even if another session's LSC was confirmed in between (the later answer wins).
    auto rec = promote_lsc(certificate_id, "confirmed by the phone");
    if (!rec) return rec.error();
    // An operation cancelled or replaced meanwhile stays as it is; the LSC the
    // phone holds is recorded all the same (refusing it would strand the phone).
    auto st = db_.prepare(
        "UPDATE operations SET state='succeeded', last_error='', updated_at=?, finished_at=? WHERE id=? "
        "AND state IN ('pending','in-progress')");
    if (!st) return st.error();
    const auto now = now_utc();
    st->bind(1, now).bind(2, now).bind(3, op.id);
    if (auto s = st->run(); !s) return s.error();
    if (auto s = tx->commit(); !s) return s.error();
    return rec;
}

Status Store::discard_unconfirmed_lsc(std::int64_t certificate_id, const std::string& why) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto rows = query_certificates("WHERE id = CAST(? AS INTEGER) AND status = 'unconfirmed'", id_text(certificate_id));
    if (!rows) return rows.error();
    if (rows->empty()) return {};  // confirmed or already gone: nothing to discard
    auto st = db_.prepare("DELETE FROM certificates WHERE id=? AND status='unconfirmed'");
    if (!st) return st.error();
    st->bind(1, certificate_id);
    if (auto s = st->run(); !s) return s;
    if (auto s = audit("capf", "lsc.discard", rows->front().device_name,
                       "serial=" + rows->front().facts.serial_hex + " " + why);
        !s)
        return s;
    return tx->commit();
}

Result<CertificateRecord> Store::confirm_lsc_by_possession(std::int64_t certificate_id) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto rows = query_certificates("WHERE id = CAST(? AS INTEGER)", id_text(certificate_id));
    if (!rows) return rows.error();
    if (rows->empty()) return fail("certificate " + id_text(certificate_id) + " is not in the registry");
    const CertificateRecord& rec = rows->front();
    if (rec.status == CertificateStatus::Active) return rec;
    // Revoked, superseded or removed since the session looked it up: the phone's
    // proof is for a certificate that no longer counts (its failure, not ours).
    if (rec.status != CertificateStatus::Unconfirmed)
        return fail(ErrorKind::AuthFailed,
                    "LSC serial " + rec.facts.serial_hex + " is " + std::string(to_string(rec.status)));
    auto newer = db_.prepare(
        "SELECT count(*) FROM certificates WHERE device_name=? AND kind='lsc' AND status='active' AND id > ?");
    if (!newer) return newer.error();
    newer->bind(1, rec.device_name).bind(2, certificate_id);
    if (auto r = newer->step(); !r || !*r) return r ? fail("count returned no row") : r.error();
    const bool stale = newer->column_int(0) > 0;
    newer->reset();
    if (stale && rec.status == CertificateStatus::Unconfirmed) {
        // Older than the device's active LSC: it can never become current again.
        auto st = db_.prepare("UPDATE certificates SET status='superseded' WHERE id=? AND status='unconfirmed'");
        if (!st) return st.error();
        st->bind(1, certificate_id);
        if (auto s = st->run(); !s) return s.error();
        if (auto s = tx->commit(); !s) return s.error();
        return fail(ErrorKind::AuthFailed,
                    "LSC serial " + rec.facts.serial_hex + " was never confirmed and is older than the active LSC");
    }
    auto promoted = promote_lsc(certificate_id, "confirmed by proof of possession");
    if (!promoted) return promoted.error();
    if (auto s = tx->commit(); !s) return s.error();
    return promoted;
}

}  // namespace lscgate
