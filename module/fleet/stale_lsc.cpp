#include "fleet/stale_lsc.h"

#include <algorithm>
#include <iterator>
#include <unordered_map>

namespace lscgate {

Result<std::vector<StaleLsc>> stale_lscs(Store& store, const std::unordered_set<std::string>* only, UnixTime now) {
    std::vector<StaleLsc> out;
    auto walked = store.each_certificate(std::nullopt, [&](const CertificateRecord& c) -> Status {
        if (c.kind != CertificateKind::Lsc || c.status != CertificateStatus::Unconfirmed) return {};
        if (only != nullptr && !only->contains(c.device_name)) return {};
        StaleLsc s;
        s.certificate_id = c.id;
        s.device = c.device_name;
        s.serial = c.facts.serial_hex;
        s.sha256 = c.facts.sha256;
        s.issued_at = c.created_at;
        s.age_seconds = now - c.created_at;
        out.push_back(std::move(s));
        return {};
    });
    if (!walked) return walked.error();
    // Few devices have unconfirmed LSCs: each one's active LSC is one indexed lookup.
    std::unordered_map<std::string, std::optional<CertificateRecord>> active;
    for (auto& s : out) {
        auto it = active.find(s.device);
        if (it == active.end()) {
            auto found = store.active_lsc(s.device);
            if (!found) return found.error();
            it = active.emplace(s.device, std::move(*found)).first;
        }
        // Ids grow with every row written: a larger id was recorded later.
        if (it->second && it->second->id > s.certificate_id) s.superseded_by = it->second->facts.serial_hex;
    }
    std::sort(out.begin(), out.end(), [](const StaleLsc& a, const StaleLsc& b) {
        return a.device != b.device ? a.device < b.device : a.certificate_id < b.certificate_id;
    });
    return out;
}

std::vector<StaleLsc> purge_candidates(const std::vector<StaleLsc>& stale, std::int64_t older_than_seconds) {
    std::vector<StaleLsc> out;
    std::copy_if(stale.begin(), stale.end(), std::back_inserter(out), [&](const StaleLsc& s) {
        return s.superseded_by.has_value() || s.age_seconds >= older_than_seconds;
    });
    return out;
}

Result<CertificateRecord> purge_stale_lsc(Store& store, const StaleLsc& lsc, const std::string& actor) {
    // SQLite: BEGIN IMMEDIATE holds the writer lock from here, so the phone's
    // confirmation cannot land between the check and the revocation.
    auto tx = store.transaction();
    if (!tx) return tx.error();
    auto current = store.find_certificate_by_fingerprint(lsc.sha256);
    if (!current) return current.error();
    if (!current->has_value() || (*current)->id != lsc.certificate_id)
        return fail(ErrorKind::Input, lsc.device + " LSC serial " + lsc.serial + " is no longer in the registry as listed");
    if ((*current)->status != CertificateStatus::Unconfirmed)
        return fail(ErrorKind::Input, lsc.device + " LSC serial " + lsc.serial + " is " +
                                          std::string(to_string((*current)->status)) + " now, not revoked");
    auto revoked = store.revoke_serial(lsc.serial, "superseded", actor);
    if (!revoked) return revoked.error();
    // revoke_serial picks by serial: it must have been this very row (else roll back).
    if (revoked->id != lsc.certificate_id)
        return fail(lsc.device + " LSC serial " + lsc.serial + ": the serial named another certificate; nothing revoked");
    if (auto s = tx->commit(); !s) return s.error();
    return revoked;
}

}  // namespace lscgate
