// The device page's actions (issue 14), for admin accounts (WebApp checked the
// role and the CSRF token): schedule, cancel, revoke. The rules are the CLI's
// (fleet/operation_request.h, fleet/revocation.h); the actor in the audit trail
// is "web:<account>".

#include "fleet/operation_request.h"
#include "fleet/revocation.h"
#include "registry/device_name.h"
#include "web/pages.h"

namespace lscgate::web {
namespace {

Result<OperationKind> schedulable_kind(const std::string& text) {
    auto kind = parse_operation_kind(text);
    if (!kind || *kind == OperationKind::None)
        return fail(ErrorKind::Input, "choose install, fetch or delete");
    return *kind;
}

std::string back_to(const std::string& device) { return "/device?name=" + url_encode(device); }

// The registry states many refusals as Internal ("device X has no pending
// operation", "already revoked"): shown to the admin as a conflict with the
// registry's words, not as a server fault.
Error refusal(const Error& e) { return e.kind == ErrorKind::Internal ? Error{e.message, ErrorKind::Config} : e; }

}  // namespace

Result<PageBody> schedule_action(WebApp& app, const PageContext& ctx) {
    const WebRequest& req = ctx.request;
    auto name = normalize_device_name(req.param("name"));
    if (!name) return name.error();
    auto kind = schedulable_kind(req.param("kind"));
    if (!kind) return kind.error();
    // "string" with digits typed in is string:DIGITS; without, a generated string.
    std::string auth = req.param("auth");
    if (auth == "string" && !req.param("digits").empty()) auth += ":" + req.param("digits");
    auto options = parse_request_options(*kind, auth, req.param("key"), req.param("allow_weak_key") == "on");
    if (!options) return options.error();
    auto by = parse_completes_by(req.param("by"), ctx.now);
    if (!by) return by.error();
    auto prepared = prepare_schedule({*name}, *options, *by);  // hashed before the registry lock
    if (!prepared) return prepared.error();
    auto result = app.with_store([&](Store& store) { return store.schedule_operations(prepared->items, ctx.actor()); });
    if (result.error) return refusal(*result.error);
    const OperationRequest& r = prepared->items.front().second;
    std::vector<std::string> lines = {"Scheduled " + std::string(to_string(*kind)) + " for " + *name +
                                      ": auth " + std::string(to_string(r.auth_mode)) + ", key " + r.key.to_string() +
                                      (r.completes_by ? ", completes by " + display_time(*r.completes_by) : "") + "."};
    for (const auto& w : options->warnings) lines.push_back("Warning: " + w);
    if (r.auth_mode == AuthMode::Null)
        for (const auto& w : soft_client_warnings({*name}, *kind)) lines.push_back("Warning: " + w);
    app.log("web: " + ctx.session.account + " scheduled " + std::string(to_string(*kind)) + " for " + *name);
    PageBody page = result_page("Scheduled", lines, back_to(*name), "Back to " + *name);
    const std::string& digits = prepared->auth_strings.front();
    page.data.set("auth_string", digits);
    page.data.set("has_auth_string", !digits.empty());
    return page;
}

Result<PageBody> cancel_action(WebApp& app, const PageContext& ctx) {
    auto name = normalize_device_name(ctx.request.param("name"));
    if (!name) return name.error();
    auto s = app.with_store([&](Store& store) { return store.cancel_operation(*name, ctx.actor()); });
    if (!s) return refusal(s.error());
    app.log("web: " + ctx.session.account + " cancelled the open operation of " + *name);
    return result_page("Cancelled", {"Cancelled the open operation of " + *name + "."}, back_to(*name), "Back to " + *name);
}

Result<PageBody> revoke_action(WebApp& app, const PageContext& ctx) {
    auto name = normalize_device_name(ctx.request.param("name"));
    if (!name) return name.error();
    const std::string reason = ctx.request.param("reason");
    auto revoked = app.with_store([&](Store& store) { return revoke_device_lsc(store, *name, reason, ctx.actor()); });
    if (!revoked) return refusal(revoked.error());
    app.log("web: " + ctx.session.account + " revoked LSC serial " + revoked->facts.serial_hex + " of " + *name);
    std::vector<std::string> lines = {"Revoked " + std::string(to_string(revoked->kind)) + " serial " +
                                      revoked->facts.serial_hex + " of " + *name + " (" + reason +
                                      "): RADIUS rejects it from the next authentication."};
    if (app.hooks().after_revoke) {
        for (auto& line : app.hooks().after_revoke(*revoked, ctx.actor())) lines.push_back(std::move(line));
    } else {
        lines.push_back("The CRL is renewed by lscgate serve within [crl] refresh seconds (or run lscgate crl).");
    }
    return result_page("Revoked", lines, back_to(*name), "Back to " + *name);
}

}  // namespace lscgate::web
