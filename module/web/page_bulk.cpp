// The bulk page (issue 14): upload a BAT-style file (a custom file of device
// names, or a phone export CSV with a Device Name column), preview it — a dry
// run listing every device with its line, or every bad line when the batch is
// refused — and apply it: install / fetch / delete with auth mode, key and
// completes-by at once (as `lscgate op install --from`), in waves (a rollout,
// as `lscgate rollout create --from --wave-size`), or cancel. The checks are
// web/bulk_request.h; the writes are the Store's and fleet/rollout.h's, audited
// with the account name.

#include "fleet/rollout.h"
#include "web/bulk_request.h"
#include "web/http_policy.h"
#include "web/pages.h"

#include <algorithm>
#include <optional>

namespace lscgate::web {
namespace {

constexpr std::size_t kPreviewRows = 500;

// The options as the form shows them (a preview's Apply form sends them back unchanged).
void add_form_fields(TemplateData& data, const BulkForm& f) {
    data.set("operations", choices({"install", "fetch", "delete", "cancel"}, f.operation.empty() ? "install" : f.operation));
    data.set("auth_modes", auth_mode_choices(f.auth.empty() ? "null" : f.auth));
    data.set("keys", key_choices(f.key.empty() ? "rsa:2048" : f.key));
    data.set("operation", f.operation);
    data.set("auth", f.auth);
    data.set("digits", f.digits);
    data.set("key", f.key);
    data.set("by", f.by);
    data.set("allow_weak_key", f.allow_weak_key);
    data.set("rollout", f.rollout);
    data.set("wave_size", f.wave_size > 0 ? std::to_string(f.wave_size) : std::string());
    data.set("replace", f.replace);
    data.set("source", f.source);
    data.set("text", f.text);
}

TemplateList line_list(const std::vector<std::string>& lines) {
    TemplateList out;
    for (const auto& l : lines) out.push_back(TemplateObject{{"line", l}});
    return out;
}

PageBody preview_body(const PageContext& ctx, const BulkForm& form, const CheckedBatch& c, bool applying) {
    TemplateData data;
    add_form_fields(data, form);
    data.set("csrf", ctx.session.csrf_token);
    data.set("admin", ctx.admin());
    data.set("summary", form.summary());
    data.set("ok", c.ok());
    data.set("applying", applying);
    data.set("problems", line_list(c.problems));
    data.set("has_problems", !c.problems.empty());
    data.set("more_problems", c.more_problems);
    data.set("option_problems", line_list(c.option_problems));
    data.set("has_option_problems", !c.option_problems.empty());
    data.set("warnings", line_list(c.warnings));
    TemplateList rows;
    std::size_t devices = 0;
    if (c.batch) {
        devices = c.batch->devices.size();
        for (std::size_t i = 0; i < devices && i < kPreviewRows; ++i) {
            const BatchDevice& d = c.batch->devices[i];
            rows.push_back(TemplateObject{{"line", d.line ? std::to_string(d.line) : std::string()},
                                          {"name", d.name},
                                          {"model", d.model},
                                          {"description", d.description},
                                          {"note", i < c.notes.size() ? c.notes[i] : std::string()}});
        }
        data.set("duplicates", line_list(c.batch->duplicate_notes()));
    } else {
        data.set("duplicates", TemplateList{});
    }
    data.set("devices", rows);
    data.set("has_devices", !rows.empty());
    data.set("device_count", std::to_string(devices));
    data.set("rows_more", devices > kPreviewRows);
    data.set("rows_shown", std::to_string(std::min(devices, kPreviewRows)));
    PageBody body{c.ok() ? "Bulk preview" : "Bulk refused", "bulk_preview", data, c.ok() ? 200 : 400};
    return body;
}

// What one scheduled device shows after apply: its operation and, once, a generated string.
TemplateObject done_row(const std::string& device, const std::string& what, const std::string& digits) {
    return TemplateObject{{"device", device},
                          {"href", "/device?name=" + url_encode(device)},
                          {"what", what},
                          {"auth_string", digits}};
}

struct Applied {
    std::vector<std::string> lines;
    TemplateList rows;
    bool strings = false;
    std::optional<ErrorKind> stopped;  ///< the kind of the error that stopped it part-way
};

// At once, as `lscgate op install|fetch|delete --from`.
Result<Applied> apply_at_once(WebApp& app, const PageContext& ctx, const CheckedBatch& c) {
    std::vector<std::string> names;
    for (const auto& d : c.batch->devices) names.push_back(d.name);
    auto prepared = prepare_schedule(names, *c.options, *c.completes_by);  // hashed before the registry lock
    if (!prepared) return prepared.error();
    auto result = app.with_store([&](Store& store) { return store.schedule_operations(prepared->items, ctx.actor()); });
    Applied out;
    for (std::size_t i = 0; i < result.done.size(); ++i) {
        const Operation& op = result.done[i];
        out.strings = out.strings || !prepared->auth_strings[i].empty();
        out.rows.push_back(done_row(op.device_name, std::string(to_string(op.request.kind)) + " " + std::to_string(op.id),
                                    prepared->auth_strings[i]));
    }
    out.lines.push_back("Scheduled " + std::to_string(result.done.size()) + " of " + std::to_string(names.size()) +
                        " devices.");
    if (result.error) {
        const std::string where = result.failed_at ? c.batch->where(c.batch->devices[*result.failed_at]) : std::string();
        out.lines.push_back("Stopped: " + where + result.error->message + " (the devices listed were scheduled, the rest not).");
        out.stopped = result.error->kind;
    }
    return out;
}

// Cancel, as `lscgate op cancel --from`.
Applied apply_cancel(WebApp& app, const PageContext& ctx, const CheckedBatch& c) {
    std::vector<std::string> names;
    for (const auto& d : c.batch->devices) names.push_back(d.name);
    auto result = app.with_store([&](Store& store) { return store.cancel_operations(names, ctx.actor()); });
    Applied out;
    for (const auto& n : result.done) out.rows.push_back(done_row(n, "cancelled", ""));
    out.lines.push_back("Cancelled the open operation of " + std::to_string(result.done.size()) + " of " +
                        std::to_string(names.size()) + " devices.");
    if (result.error) {
        out.lines.push_back("Stopped: " +
                            (result.failed_at ? c.batch->where(c.batch->devices[*result.failed_at]) : std::string()) +
                            result.error->message);
        out.stopped = result.error->kind;
    }
    return out;
}

// In waves, as `lscgate rollout create NAME --from FILE --wave-size N`: the rollout and its first wave.
Result<Applied> apply_in_waves(WebApp& app, const PageContext& ctx, const CheckedBatch& c, bool replace) {
    std::vector<std::string> names;
    for (const auto& d : c.batch->devices) names.push_back(d.name);
    GeneratedStrings strings;
    if (c.plan->generate_strings) {  // hashed before the registry is held (PBKDF2: milliseconds each)
        const auto first = std::min(names.size(), static_cast<std::size_t>(c.plan->wave_size));
        if (auto s = strings.prepare({names.begin(), names.begin() + static_cast<std::ptrdiff_t>(first)}); !s)
            return s.error();
    }
    auto run = app.with_store([&](Store& store) -> Result<WaveRun> {
        auto created = create_rollout(store, *c.plan, names, ctx.actor(), ctx.now);
        if (!created) return created.error();
        return schedule_next_wave(store, c.plan->name, strings.fn(), WaveOptions{replace}, ctx.actor(), ctx.now);
    });
    if (!run) return run.error();
    Applied out;
    int scheduled = 0, skipped = 0;
    for (const auto& m : run->outcomes) {
        const std::string digits = strings.of(m.device);
        out.strings = out.strings || !digits.empty();
        if (m.operation) ++scheduled;
        else ++skipped;
        out.rows.push_back(done_row(m.device,
                                    m.operation ? std::string(to_string(m.operation->request.kind)) + " " +
                                                      std::to_string(m.operation->id)
                                                : "skipped: " + m.skipped,
                                    digits));
    }
    const Rollout& r = run->rollout;
    out.lines.push_back("Rollout " + r.name + ": " + std::to_string(r.devices) + " devices in " + std::to_string(r.waves) +
                        " waves; wave " + std::to_string(run->wave) + " scheduled: " + std::to_string(scheduled) +
                        " scheduled, " + std::to_string(skipped) + " skipped.");
    if (run->error) {
        out.lines.push_back("Stopped: " + run->error->message + " (the next wave button goes on with this wave).");
        out.stopped = run->error->kind;
    } else if (r.next_wave <= r.waves)
        out.lines.push_back("The next wave is scheduled from the dashboard (Next wave) or with lscgate rollout next " + r.name + ".");
    return out;
}

}  // namespace

Result<PageBody> bulk_page(WebApp&, const PageContext& ctx) {
    TemplateData data;
    add_form_fields(data, BulkForm{});
    data.set("csrf", ctx.session.csrf_token);
    data.set("admin", ctx.admin());
    data.set("max_wave", std::to_string(kMaxWaveSize));
    return PageBody{"Bulk", "bulk", data, 200};
}

Result<PageBody> bulk_preview_action(WebApp& app, const PageContext& ctx) {
    auto form = read_bulk_form(ctx.request);
    if (!form) return form.error();
    auto checked = check_bulk(app, *form, ctx.now);
    if (!checked) return checked.error();
    return preview_body(ctx, *form, *checked, false);
}

Result<PageBody> bulk_apply_action(WebApp& app, const PageContext& ctx) {
    auto form = read_bulk_form(ctx.request);
    if (!form) return form.error();
    auto checked = check_bulk(app, *form, ctx.now);  // again: the registry may have changed since the preview
    if (!checked) return checked.error();
    if (!checked->ok()) return preview_body(ctx, *form, *checked, true);
    Result<Applied> applied = form->operation == "cancel" ? Result<Applied>(apply_cancel(app, ctx, *checked))
                              : checked->plan             ? apply_in_waves(app, ctx, *checked, form->replace)
                                                          : apply_at_once(app, ctx, *checked);
    if (!applied) return applied.error();
    app.log("web: " + ctx.session.account + " applied a bulk " + form->operation + " of " +
            std::to_string(checked->batch->devices.size()) + " devices from " + form->source);
    TemplateData data;
    data.set("lines", line_list(applied->lines));
    data.set("warnings", line_list(checked->warnings));
    data.set("rows", applied->rows);
    data.set("has_strings", applied->strings);
    data.set("summary", form->summary());
    data.set("source", form->source);
    // Stopped part-way: what was done is shown (strings once), under a title and
    // status that say it did not all happen.
    if (applied->stopped) return PageBody{"Bulk stopped part-way", "bulk_done", data, http_status_of(*applied->stopped)};
    return PageBody{"Bulk applied", "bulk_done", data, 200};
}

}  // namespace lscgate::web
