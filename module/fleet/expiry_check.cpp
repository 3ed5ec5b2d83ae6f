#include "fleet/expiry_check.h"

#include <algorithm>

namespace lscgate {
namespace {

ExpiryItem grade(std::string role, std::string name, const CertificateFacts& f, UnixTime now, const ExpiryThresholds& t) {
    return {std::move(role), std::move(name), f.serial_hex, f.not_after,
            expiry_level(f.not_after, now, t.warn_seconds, t.crit_seconds), ""};
}

void sort_by_expiry(std::vector<ExpiryItem>& items) {
    std::stable_sort(items.begin(), items.end(), [](const ExpiryItem& a, const ExpiryItem& b) { return a.not_after < b.not_after; });
}

std::string days_text(std::int64_t seconds) {
    const std::int64_t d = seconds / 86400;
    return std::to_string(d) + (d == 1 ? " day" : " days");
}

std::string perf(const std::string& label, std::int64_t value, const ExpiryThresholds& t) {
    return label + "=" + std::to_string(value) + ";" + std::to_string(t.warn_seconds / 86400) + ";" +
           std::to_string(t.crit_seconds / 86400);
}

}  // namespace

std::string ExpiryCheck::summary(UnixTime now, const ExpiryThresholds& t) const {
    std::vector<std::string> parts;
    std::string data;
    if (!capf.empty()) {
        const ExpiryItem& first = capf.front();
        parts.push_back(first.role + " " + first.name + " " + expiry_phrase(first.not_after, now));
        data += perf("capf_days", days_left(first.not_after, now), t);
    }
    if (active_lscs == 0) {
        parts.push_back("no active LSC");
    } else {
        const ExpiryItem& e = *earliest_lsc;
        const std::size_t crit = static_cast<std::size_t>(std::count_if(
            lscs_flagged.begin(), lscs_flagged.end(), [](const ExpiryItem& i) { return i.level == ExpiryLevel::Critical; }));
        if (lscs_flagged.empty())
            parts.push_back(std::to_string(active_lscs) + " active LSCs, the first " + expiry_phrase(e.not_after, now));
        else
            parts.push_back(std::to_string(lscs_flagged.size()) + " of " + std::to_string(active_lscs) +
                            " active LSCs expire within " + days_text(t.warn_seconds) + " (" + std::to_string(crit) +
                            " within " + days_text(t.crit_seconds) + "; first " + e.name + " " +
                            expiry_phrase(e.not_after, now) + ")");
        data += " " + perf("lsc_min_days", days_left(e.not_after, now), t) +
                " lsc_warning=" + std::to_string(lscs_flagged.size() - crit) + " lsc_critical=" + std::to_string(crit);
    }
    if (!mic_roots.empty()) {
        const ExpiryItem& first = mic_roots.front();
        parts.push_back(std::to_string(mic_roots.size()) + " MIC root" + (mic_roots.size() == 1 ? "" : "s") + ", the first " +
                        first.name + " " + expiry_phrase(first.not_after, now));
        data += " " + perf("mic_root_min_days", days_left(first.not_after, now), t);
    }
    if (!crls.empty()) {
        // The worst CRL first (a past nextUpdate before one merely close to it).
        const ExpiryItem* worst = &crls.front();
        for (const auto& c : crls)
            if (c.level > worst->level) worst = &c;
        const std::int64_t left = worst->not_after - now;
        const std::string when = " (" + format_utc(worst->not_after) + ")";
        if (!worst->problem.empty())
            parts.push_back("CRL " + worst->name + " unreadable (" + worst->problem +
                            "): head-ends and FreeRADIUS check_crl cannot use it; run lscgate crl --force");
        else
            parts.push_back("CRL " + worst->name +
                            (left <= 0 ? " nextUpdate passed " + std::to_string(-left / 3600) + "h ago" + when +
                                             ": head-ends refuse every LSC of its CAPF; run lscgate serve or lscgate crl"
                                       : " next update in " + std::to_string(left / 3600) + "h" + when +
                                             (worst->level == ExpiryLevel::Warning ? ": it is not being renewed" : "")));
        data += " crl_min_hours=" + std::to_string((crls.front().not_after - now) / 3600);
    }
    std::string text;
    for (const auto& p : parts) text += (text.empty() ? "" : "; ") + p;
    return "LSCGATE " + std::string(to_string(level)) + " - " + text + " | " + data;
}

ExpiryLevel crl_level(const CrlFacts& crl, UnixTime now, const ExpiryThresholds& thresholds) {
    if (now >= crl.next_update) return ExpiryLevel::Critical;
    const std::int64_t warn = std::min<std::int64_t>(thresholds.warn_seconds, (crl.next_update - crl.this_update) / 4);
    return crl.next_update - now < warn ? ExpiryLevel::Warning : ExpiryLevel::Ok;
}

Result<ExpiryCheck> check_expiry(Store& store, const std::vector<RoleCertificate>& cas, UnixTime now,
                                 const ExpiryThresholds& thresholds, const std::vector<CrlToCheck>& crls) {
    ExpiryCheck out;
    for (const auto& crl : crls) {
        if (!crl.problem.empty()) {  // sorted first: an unusable CRL is worse than any expiry
            out.crls.push_back({"CRL", crl.name, "", now, ExpiryLevel::Critical, crl.problem});
            continue;
        }
        out.crls.push_back({"CRL", crl.name, std::to_string(crl.facts.number), crl.facts.next_update,
                            crl_level(crl.facts, now, thresholds), ""});
    }
    for (const auto& ca : cas) {
        auto item = grade(ca.role, ca.facts.subject, ca.facts, now, thresholds);
        (ca.role == "MIC root" ? out.mic_roots : out.capf).push_back(std::move(item));
    }
    auto walked = store.each_certificate(std::nullopt, [&](const CertificateRecord& c) -> Status {
        if (c.kind != CertificateKind::Lsc || c.status != CertificateStatus::Active) return {};
        ++out.active_lscs;
        auto item = grade("LSC", c.device_name, c.facts, now, thresholds);
        if (!out.earliest_lsc || item.not_after < out.earliest_lsc->not_after) out.earliest_lsc = item;
        if (item.level != ExpiryLevel::Ok) out.lscs_flagged.push_back(std::move(item));
        return {};
    });
    if (!walked) return walked.error();
    sort_by_expiry(out.capf);
    sort_by_expiry(out.mic_roots);
    sort_by_expiry(out.lscs_flagged);
    sort_by_expiry(out.crls);
    for (const auto* list : {&out.capf, &out.mic_roots, &out.lscs_flagged, &out.crls})
        for (const auto& i : *list) out.level = std::max(out.level, i.level);
    return out;
}

}  // namespace lscgate
