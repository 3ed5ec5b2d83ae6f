// The device page (issue 14): the device, its operations (newest first), its
// certificates, its CAPF sessions and RADIUS sightings (page_device_history.cpp),
// the panels the CLI adds (WebApp::add_device_panel: doctor's findings), and for
// admin accounts the actions: schedule install/fetch/delete, cancel, revoke.

#include "fleet/revocation.h"
#include "registry/device_name.h"
#include "web/pages.h"

#include <algorithm>

namespace lscgate::web {
namespace {

constexpr std::size_t kOperationsShown = 50;

TemplateObject operation_row(const Operation& o, UnixTime now) {
    return TemplateObject{{"id", std::to_string(o.id)},
                          {"kind", std::string(to_string(o.request.kind))},
                          {"auth", std::string(to_string(o.request.auth_mode))},
                          {"key", o.request.key.to_string()},
                          {"state", std::string(to_string(effective_state(o, now)))},
                          {"completes_by", o.request.completes_by ? display_time(*o.request.completes_by) : ""},
                          {"last_error", o.last_error},
                          {"updated", display_time(o.updated_at)}};
}

TemplateObject certificate_row(const CertificateRecord& c) {
    return TemplateObject{{"kind", std::string(to_string(c.kind))},
                          {"status", std::string(to_string(c.status))},
                          {"serial", c.facts.serial_hex},
                          {"not_before", display_time(c.facts.not_before)},
                          {"not_after", display_time(c.facts.not_after)},
                          {"revoked", c.revoked_at ? display_time(*c.revoked_at) + " (" + c.revocation_reason + ")" : ""}};
}

// The schedule, cancel and revoke forms' data (shown to admin accounts only).
void add_action_forms(TemplateData& data, bool open_operation, bool active_lsc) {
    data.set("kinds", choices({"install", "fetch", "delete"}, "install"));
    data.set("auth_modes", auth_mode_choices("null"));
    data.set("keys", key_choices("rsa:2048"));
    TemplateList reasons;
    for (auto r : kRevocationReasons) reasons.push_back(TemplateObject{{"value", std::string(r)}, {"selected", r == "unspecified"}});
    data.set("reasons", reasons);
    data.set("can_cancel", open_operation);
    data.set("can_revoke", active_lsc);
}

struct DeviceView {
    Device device;
    std::vector<Operation> operations;
    std::vector<CertificateRecord> certificates;
};

Result<DeviceView> read_device(WebApp& app, const std::string& name) {
    return app.with_store([&](Store& store) -> Result<DeviceView> {
        auto found = store.find_device(name);
        if (!found) return found.error();
        if (!found->has_value()) return fail(ErrorKind::Input, "no such device: " + name);
        DeviceView view{**found, {}, {}};
        if (auto s = store.each_operation(name, true, collect_into(view.operations)); !s) return s.error();
        if (auto s = store.each_certificate(name, collect_into(view.certificates)); !s) return s.error();
        return view;
    });
}

TemplateList panels_of(WebApp& app, const PageContext& ctx, const Device& device) {
    TemplateList out;
    for (const auto& panel : app.device_panels()) {
        auto html = panel.render(app, ctx, device);
        if (!html) app.log("web: panel " + panel.title + " of " + device.name + ": " + html.message());
        out.push_back(TemplateObject{{"title", panel.title},
                                     {"html", html ? *html : std::string()},
                                     {"has_error", !html},  // a section over a string: kainjow renders even ""
                                     {"error", std::string("not available: see the server log")}});
    }
    return out;
}

}  // namespace

Result<PageBody> device_page(WebApp& app, const PageContext& ctx) {
    auto name = normalize_device_name(ctx.request.param("name"));
    if (!name) return name.error();
    auto view = read_device(app, *name);
    if (!view) return view.error();
    const Device& d = view->device;
    TemplateList operations;
    bool open = false;
    // each_operation reads oldest first: the newest are shown first.
    for (auto it = view->operations.rbegin(); it != view->operations.rend(); ++it) {
        const OperationState s = effective_state(*it, ctx.now);
        open = open || s == OperationState::Pending || s == OperationState::InProgress;
        if (operations.size() < kOperationsShown) operations.push_back(operation_row(*it, ctx.now));
    }
    TemplateList certificates;
    bool active = false;
    for (const auto& c : view->certificates) {
        certificates.push_back(certificate_row(c));
        active = active || (c.kind == CertificateKind::Lsc && c.status == CertificateStatus::Active);
    }
    TemplateData data;
    data.set("name", d.name);
    data.set("model", d.model);
    data.set("description", d.description);
    data.set("created", display_time(d.created_at));
    data.set("locked", d.locked_until && *d.locked_until > ctx.now);
    data.set("locked_until", d.locked_until ? display_time(*d.locked_until) : "");
    data.set("operations", operations);
    data.set("has_operations", !operations.empty());
    data.set("certificates", certificates);
    data.set("has_certificates", !certificates.empty());
    if (auto s = add_device_history(app, d.name, data); !s) return s.error();
    data.set("panels", panels_of(app, ctx, d));
    data.set("admin", ctx.admin());
    data.set("csrf", ctx.session.csrf_token);
    if (ctx.admin()) add_action_forms(data, open, active);
    return PageBody{d.name, "device", data, 200};
}

}  // namespace lscgate::web
