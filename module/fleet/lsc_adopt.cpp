#include "fleet/lsc_adopt.h"

#include "registry/device_name.h"

#include <algorithm>

namespace lscgate {
namespace {

// The device's newest fetched LSC and its newest active one (by id: recorded later).
struct DeviceLscs {
    std::optional<CertificateRecord> fetched;
    std::optional<CertificateRecord> active;
    bool fetched_mic = false;  // the phone answered the fetch with its MIC
};

Result<DeviceLscs> read_lscs(Store& store, const std::string& device) {
    DeviceLscs out;
    auto walked = store.each_certificate(device, [&](const CertificateRecord& c) -> Status {
        if (c.kind == CertificateKind::Mic && c.status == CertificateStatus::Fetched) out.fetched_mic = true;
        if (c.kind != CertificateKind::Lsc) return {};
        std::optional<CertificateRecord>* slot = c.status == CertificateStatus::Fetched  ? &out.fetched
                                                 : c.status == CertificateStatus::Active ? &out.active
                                                                                         : nullptr;
        if (slot != nullptr && (!*slot || c.id > (*slot)->id)) *slot = c;
        return {};
    });
    if (!walked) return walked.error();
    return out;
}

std::string no_fetched_lsc(const std::string& device, bool fetched_mic) {
    if (fetched_mic)
        return "the phone answered the fetch with its MIC: it holds no LSC to adopt (enrol it: lscgate op install " +
               device + ")";
    return "no fetched LSC: schedule 'lscgate op fetch " + device + "' and let the phone connect to lscgate serve";
}

// Why `cert` (the fetched LSC of `device`) cannot be adopted at `now`, "" when it can.
// Its facts come from the certificate itself: a registry row keeps no CN.
Result<std::string> refusal(X509* cert, const TrustSet& trust, const std::string& device, UnixTime now) {
    auto facts = describe_certificate(cert);
    if (!facts) return "the fetched certificate cannot be read: " + facts.message();
    const CertificateFacts& f = *facts;
    auto cn = normalize_device_name(f.common_name);
    if (!cn || *cn != device)
        return "its subject CN is '" + f.common_name + "', not " + device + ": the LSC of another device";
    if (now < f.not_before) return "not valid before " + format_utc(f.not_before);
    if (now > f.not_after) return "expired " + format_utc(f.not_after) + ": re-key it (lscgate op install " + device + ")";
    if (auto s = trust.verify_lsc(cert, now); !s) {
        if (s.kind() == ErrorKind::Internal) return s.error();
        return s.message() + " (issuer " + f.issuer +
               "): import that CAPF's certificate and key first (lscgate capf import); retired CAPFs are not trusted";
    }
    return std::string();
}

}  // namespace

Result<TrustSet> registry_capf_trust(Store& store) {
    auto capfs = store.list_capf_certificates();
    if (!capfs) return capfs.error();
    std::vector<X509Ptr> owned;
    for (const auto& c : *capfs) {
        if (c.status == CapfStatus::Retired) continue;
        auto cert = parse_certificate_pem(c.pem);
        if (!cert) return fail("registry CAPF certificate " + c.facts.subject + ": " + cert.message());
        owned.push_back(std::move(*cert));
    }
    if (owned.empty()) return fail(ErrorKind::Config, "the registry trusts no CAPF certificate (lscgate capf show)");
    std::vector<X509*> anchors;
    for (const auto& c : owned) anchors.push_back(c.get());
    return TrustSet::build(anchors, {});
}

Result<AdoptionCheck> check_adoption(Store& store, const TrustSet& trust, const std::string& device, UnixTime now) {
    auto lscs = read_lscs(store, device);
    if (!lscs) return lscs.error();
    AdoptionCheck out;
    out.certificate = lscs->fetched;
    if (!lscs->fetched) {
        out.refused = no_fetched_lsc(device, lscs->fetched_mic);
        return out;
    }
    const CertificateRecord& rec = *lscs->fetched;
    if (lscs->active && lscs->active->id > rec.id) {
        out.refused = "its active LSC serial " + lscs->active->facts.serial_hex + " was recorded after this fetch (" +
                      format_utc(rec.created_at) + "): fetch again to see what the phone holds now";
        return out;
    }
    auto cert = parse_certificate_pem(rec.pem);
    if (!cert) {
        out.refused = "the fetched certificate cannot be read: " + cert.message();
        return out;
    }
    auto why = refusal(cert->get(), trust, device, now);
    if (!why) return why.error();
    out.refused = std::move(*why);
    return out;
}

Result<std::vector<std::string>> devices_with_fetched_lsc(Store& store) {
    std::vector<std::string> out;
    auto walked = store.each_certificate(std::nullopt, [&](const CertificateRecord& c) -> Status {
        if (c.kind == CertificateKind::Lsc && c.status == CertificateStatus::Fetched) out.push_back(c.device_name);
        return {};
    });
    if (!walked) return walked.error();
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace lscgate
