// The dashboard (issue 14): devices by LSC status (Store::count_devices_by_lsc),
// the phones RADIUS last saw with their MIC (last-seen), the rollouts' progress
// (fleet/rollout_status.h, as `lscgate rollout status`), the LSCs expiring
// within 30 days and the CAPF certificates' days left (fleet/expiry_check.h,
// the same grading as `lscgate check`). An admin schedules a rollout's next wave here.

#include "fleet/expiry_check.h"
#include "fleet/rollout.h"
#include "fleet/rollout_plan.h"
#include "fleet/rollout_status.h"
#include "web/pages.h"

#include <algorithm>
#include <charconv>

namespace lscgate::web {
namespace {

constexpr std::int64_t kExpiringWindow = 30 * 86400;
constexpr std::size_t kExpiringShown = 20;
constexpr std::size_t kRolloutsShown = 10;

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

// One rollout's progress: counts as `rollout status` has them, failures by cause class.
TemplateObject rollout_row(const RolloutStatus& s, bool admin) {
    const StatusCounts& c = s.counts;
    const Rollout& r = s.rollout;
    const int scheduled = c.scheduled();
    const int done = c.succeeded + c.failed + c.timed_out + c.cancelled;
    TemplateList failures;
    for (const auto& g : s.failures)
        failures.push_back(TemplateObject{{"class", g.cause_class}, {"count", std::to_string(g.devices.size())}});
    const bool waves_left = r.next_wave <= r.waves;
    return TemplateObject{
        {"name", r.name},
        {"operation", std::string(to_string(r.request.kind))},
        {"devices", std::to_string(c.total())},
        {"waves", std::to_string(std::min(r.next_wave - 1, r.waves)) + "/" + std::to_string(r.waves)},
        {"succeeded", std::to_string(c.succeeded)},
        {"failed", std::to_string(c.failed + c.timed_out)},
        {"pending", std::to_string(c.pending + c.in_progress)},
        {"waiting", std::to_string(c.waiting)},
        {"skipped", std::to_string(c.skipped + c.cancelled)},
        {"percent", std::to_string(scheduled > 0 ? c.succeeded * 100 / c.total() : 0)},
        {"progress_max", std::to_string(std::max(c.total(), 1))},
        {"progress_value", std::to_string(c.succeeded)},
        {"settled", done == scheduled},
        {"failures", failures},
        {"has_failures", !failures.empty()},
        {"can_next", admin && waves_left},
        {"next_wave", std::to_string(r.next_wave)}};
}

// The newest kRolloutsShown rollouts' status at `now`.
Result<TemplateList> rollout_rows(Store& store, UnixTime now, bool admin, std::size_t& total) {
    auto all = list_rollouts(store);
    if (!all) return all.error();
    total = all->size();
    TemplateList out;
    for (auto it = all->rbegin(); it != all->rend() && out.size() < kRolloutsShown; ++it) {
        auto s = read_rollout_status(store, it->name, std::nullopt, now);
        if (!s) return s.error();
        out.push_back(rollout_row(*s, admin));
    }
    return out;
}

// The phones RADIUS last saw authenticating with their MIC, or why it is not known.
void add_mic_seen(WebApp& app, TemplateData& data) {
    const LastSeenSource& source = app.options().last_seen;
    if (!source.available()) {
        data.set("mic_known", false);
        data.set("mic_reason", source.unavailable_reason());
        return;
    }
    auto index = read_last_seen_index(source);
    data.set("mic_known", static_cast<bool>(index));
    if (!index) {
        app.log("web: dashboard: last-seen: " + index.message());
        data.set("mic_reason", std::string("last-seen could not be read: see the server log"));
        return;
    }
    data.set("mic_seen", std::to_string(count_seen_with_mic(*index)));
    data.set("seen_total", std::to_string(index->size()));
}

// The wave the Next wave button was drawn for: the form names it, so that a
// second submission (a double click, a reload that re-posts, two admins at
// once) is refused instead of scheduling the wave after it.
Result<int> wave_of_form(const WebRequest& request) {
    const std::string text = request.param("wave");
    int wave = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), wave);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || wave < 1)
        return fail(ErrorKind::Input, "the form names no wave to schedule: reload the dashboard and use its Next wave button");
    return wave;
}

// Refuses (kind Config) when rollout `r` no longer has `wave` as its next wave.
Status check_still_next(const Rollout& r, int wave) {
    if (r.next_wave == wave) return {};
    return fail(ErrorKind::Config, "rollout " + r.name + ": wave " + std::to_string(wave) +
                                       " is already scheduled (the next is wave " + std::to_string(r.next_wave) +
                                       "): nothing was scheduled; reload the dashboard");
}

}  // namespace

// The devices of rollout `name`'s next wave when it generates a string per device
// (their strings are made before the registry is held); empty otherwise, and
// when `wave` is no longer the next one (the run refuses it).
Result<std::vector<std::string>> next_wave_needing_strings(WebApp& app, const std::string& name, int wave) {
    return app.with_store([&](Store& store) -> Result<std::vector<std::string>> {
        std::vector<std::string> out;
        auto r = store.find_rollout(name);
        if (!r) return r.error();
        if (!r->has_value() || !(*r)->generate_strings || (*r)->next_wave > (*r)->waves || (*r)->next_wave != wave)
            return out;
        auto walked = store.each_rollout_member((*r)->id, (*r)->next_wave, [&](const RolloutMember& m) -> Status {
            if (!m.operation_id && m.skipped.empty()) out.push_back(m.device);
            return {};
        });
        if (!walked) return walked.error();
        return out;
    });
}

Result<PageBody> rollout_next_action(WebApp& app, const PageContext& ctx) {
    const std::string name = ctx.request.param("name");
    auto wave = wave_of_form(ctx.request);
    if (!wave) return wave.error();
    GeneratedStrings strings;
    auto members = next_wave_needing_strings(app, name, *wave);
    if (!members) return members.error();
    if (auto s = strings.prepare(*members); !s) return s.error();
    auto run = app.with_store([&](Store& store) -> Result<WaveRun> {
        // Checked under the same lock as the run: of two submissions of one
        // button, the second finds the wave scheduled.
        auto found = store.find_rollout(name);
        if (!found) return found.error();
        if (found->has_value())
            if (auto s = check_still_next(**found, *wave); !s) return s.error();
        return schedule_next_wave(store, name, strings.fn(), WaveOptions{}, ctx.actor(), ctx.now);
    });
    if (!run) return run.error();
    int scheduled = 0;
    std::vector<std::string> lines;
    for (const auto& m : run->outcomes) {
        if (m.operation) ++scheduled;
        std::string line = m.operation ? "Scheduled " + std::string(to_string(m.operation->request.kind)) + " for " + m.device
                                       : "Skipped " + m.device + ": " + m.skipped;
        if (auto d = strings.of(m.device); !d.empty()) line += ", authentication string " + d + " (shown once)";
        lines.push_back(std::move(line));
    }
    const Rollout& r = run->rollout;
    lines.insert(lines.begin(), "Rollout " + r.name + ": wave " + std::to_string(run->wave) + " of " + std::to_string(r.waves) +
                                    ": " + std::to_string(scheduled) + " scheduled, " +
                                    std::to_string(run->outcomes.size() - static_cast<std::size_t>(scheduled)) + " skipped.");
    if (run->error) lines.push_back("Stopped: " + run->error->message + " (Next wave goes on with this wave).");
    app.log("web: " + ctx.session.account + " scheduled wave " + std::to_string(run->wave) + " of rollout " + r.name);
    return result_page("Next wave", lines, "/", "Dashboard");
}

Result<PageBody> dashboard_page(WebApp& app, const PageContext& ctx) {
    const ExpiryThresholds thresholds{kExpiringWindow, 7 * 86400};
    struct Read {
        LscStatusCounts counts;
        ExpiryCheck expiry;
        TemplateList rollouts;
        std::size_t rollouts_total = 0;
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
        Read out{*counts, std::move(*expiry), {}, 0};
        auto rollouts = rollout_rows(store, ctx.now, ctx.admin(), out.rollouts_total);
        if (!rollouts) return rollouts.error();
        out.rollouts = std::move(*rollouts);
        return out;
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
    data.set("rollouts", read->rollouts);
    data.set("has_rollouts", !read->rollouts.empty());
    data.set("rollouts_more", read->rollouts_total > read->rollouts.size());
    data.set("rollouts_total", std::to_string(read->rollouts_total));
    data.set("csrf", ctx.session.csrf_token);
    add_mic_seen(app, data);
    return PageBody{"Dashboard", "dashboard", data, 200};
}

}  // namespace lscgate::web
