// The dashboard (issue 14): devices by LSC status (Store::count_devices_by_lsc),
// the LSCs expiring within 30 days and the CAPF certificates' days left
// (fleet/expiry_check.h, the same grading as `lscgate check`).

#include "fleet/expiry_check.h"
#include "web/pages.h"

namespace lscgate::web {
namespace {

constexpr std::int64_t kExpiringWindow = 30 * 86400;
constexpr std::size_t kExpiringShown = 20;

TemplateObject expiry_row(const ExpiryItem& item, UnixTime now) {
    return TemplateObject{{"role", item.role},
                          {"name", item.name},
                          {"serial", item.serial},
                          {"not_after", display_time(item.not_after)},
                          {"days_left", std::to_string(days_left(item.not_after, now))},
                          {"level", std::string(to_string(item.level))},
                          {"href", "/device?name=" + url_encode(item.name)}};
}

TemplateObject count_row(const std::string& label, std::int64_t n, const std::string& href) {
    return TemplateObject{{"label", label}, {"count", std::to_string(n)}, {"href", href}};
}

}  // namespace

Result<PageBody> dashboard_page(WebApp& app, const PageContext& ctx) {
    const ExpiryThresholds thresholds{kExpiringWindow, 7 * 86400};
    struct Read {
        LscStatusCounts counts;
        ExpiryCheck expiry;
    };
    auto read = app.with_store([&](Store& store) -> Result<Read> {
        auto counts = store.count_devices_by_lsc(ctx.now + kExpiringWindow);
        if (!counts) return counts.error();
        auto capfs = store.list_capf_certificates();
        if (!capfs) return capfs.error();
        std::vector<RoleCertificate> cas;
        for (const auto& c : *capfs)
            if (c.status != CapfStatus::Retired)
                cas.push_back({c.status == CapfStatus::Current ? "CAPF current" : "CAPF previous", c.facts});
        auto expiry = check_expiry(store, cas, ctx.now, thresholds);
        if (!expiry) return expiry.error();
        return Read{*counts, std::move(*expiry)};
    });
    if (!read) return read.error();
    const LscStatusCounts& c = read->counts;
    TemplateList counts;
    counts.push_back(count_row("Devices", c.devices, "/devices"));
    counts.push_back(count_row("Active LSC", c.active, "/devices?lsc=active"));
    counts.push_back(count_row("Active LSC expiring within 30 days", c.expiring, "/devices?lsc=expiring"));
    counts.push_back(count_row("Unconfirmed LSC", c.unconfirmed, "/devices?lsc=unconfirmed"));
    counts.push_back(count_row("Revoked LSC", c.revoked, "/devices?lsc=revoked"));
    counts.push_back(count_row("No LSC", c.none, "/devices?lsc=none"));
    counts.push_back(count_row("Open operations", c.open_operations, "/devices"));
    TemplateList capf;
    for (const auto& item : read->expiry.capf) capf.push_back(expiry_row(item, ctx.now));
    TemplateList expiring;
    for (std::size_t i = 0; i < read->expiry.lscs_flagged.size() && i < kExpiringShown; ++i)
        expiring.push_back(expiry_row(read->expiry.lscs_flagged[i], ctx.now));
    TemplateData data;
    data.set("counts", counts);
    data.set("capf", capf);
    data.set("has_capf", !read->expiry.capf.empty());
    data.set("expiring", expiring);
    data.set("has_expiring", !read->expiry.lscs_flagged.empty());
    data.set("expiring_total", std::to_string(read->expiry.lscs_flagged.size()));
    data.set("expiring_more", read->expiry.lscs_flagged.size() > kExpiringShown);
    data.set("level", std::string(to_string(read->expiry.level)));
    return PageBody{"Dashboard", "dashboard", data, 200};
}

}  // namespace lscgate::web
