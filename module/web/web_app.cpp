#include "web/web_app.h"

#include "web/http_policy.h"
#include "web/pages.h"
#include "web/password_hash.h"

#include <exception>

namespace lscgate::web {
namespace {

WebResponse redirect(const std::string& to) {
    WebResponse r;
    r.status = 303;
    r.location = to;
    return r;
}

// The built-in pages of the navigation; extensions follow them.
struct BuiltinPage {
    const char* path;
    const char* label;
    Result<PageBody> (*render)(WebApp&, const PageContext&);
};
constexpr BuiltinPage kBuiltinPages[] = {
    {"/", "Dashboard", dashboard_page},
    {"/devices", "Devices", devices_page},
    {"/bulk", "Bulk", bulk_page},
    {"/reports", "Reports", reports_page},
    {"/audit", "Audit", audit_page},
};

// The POST actions. Those that change the registry need the admin role; a bulk
// preview is a dry run, so a helpdesk account may run it.
struct PostAction {
    const char* path;
    Result<PageBody> (*run)(WebApp&, const PageContext&);
    bool changes;
};
constexpr PostAction kPostActions[] = {
    {"/device/schedule", schedule_action, true}, {"/device/cancel", cancel_action, true},
    {"/device/revoke", revoke_action, true},     {"/bulk/preview", bulk_preview_action, false},
    {"/bulk/apply", bulk_apply_action, true},    {"/rollout/next", rollout_next_action, true},
};

}  // namespace

std::string WebRequest::param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
}

WebApp::WebApp(Store store, WebOptions options, WebHooks hooks)
    : store_(std::move(store)),
      options_(std::move(options)),
      hooks_(std::move(hooks)),
      sessions_(options_.sessions),
      throttle_(options_.failures_per_address_per_minute) {
    // A random password nobody knows: verifying against it costs what a real check costs.
    auto secret = random_token();
    auto decoy = hash_password(secret ? *secret : std::string("decoy-password-unused"));
    decoy_hash_ = decoy ? *decoy : std::string();
}

void WebApp::add_page(NavPage page) { pages_.push_back(std::move(page)); }
void WebApp::add_device_panel(DevicePanel panel) { panels_.push_back(std::move(panel)); }

void WebApp::log(const std::string& line) const {
    if (options_.log) options_.log(line);
}

WebResponse WebApp::handle(const WebRequest& request, UnixTime now) {
    try {
        return dispatch(request, now);
    } catch (const std::exception& e) {
        log("web: internal error on " + request.method + " " + request.path + ": " + e.what());
    } catch (...) {
        log("web: internal error on " + request.method + " " + request.path);
    }
    WebResponse r;
    r.status = 500;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "internal error\n";
    return r;
}

std::optional<Session> WebApp::current_session(const WebRequest& request, UnixTime now) {
    auto id = cookie_value(request.cookie, kSessionCookie);
    if (!id) return std::nullopt;
    auto session = sessions_.find(*id, now);
    if (!session) return std::nullopt;
    // The registry decides on every request: a removed account or a changed
    // password (lscgate admin remove/passwd, another process) ends the session,
    // and the role is the account's current one.
    auto account = with_store([&](Store& s) { return s.find_web_account(session->account); });
    if (!account) {
        log("web: cannot read web account " + session->account + ": " + account.message());
        return std::nullopt;
    }
    if (!account->has_value() || (*account)->password_hash != session->password_hash) {
        sessions_.remove(*id);
        log("web: session of " + session->account + " ended: account removed or password changed");
        return std::nullopt;
    }
    session->role = (*account)->role;
    return session;
}

WebResponse WebApp::dispatch(const WebRequest& request, UnixTime now) {
    const bool post = request.method == "POST";
    if (!post && request.path == "/static/app.css") {
        WebResponse r;
        auto css = embedded_file("app.css");
        if (!css) return error_response(css.error(), nullptr);
        r.content_type = "text/css; charset=utf-8";
        r.body = std::string(*css);
        return r;
    }
    // Browsers ask for it on every page: no icon, and no redirect to the sign-in form.
    if (!post && request.path == "/favicon.ico") return message_response(404, "Not found", "No icon.", nullptr);
    auto session = current_session(request, now);
    if (request.path == "/login") {
        if (post) return login_submit(*this, request, now);
        if (session) return redirect("/");
        return login_form(*this, request, 200, "");
    }
    if (!session) {
        if (!post) return redirect("/login");
        return message_response(403, "Not signed in", "Sign in first: this request carries no live session.", nullptr);
    }
    return dispatch_signed_in(request, *session, now);
}

WebResponse WebApp::dispatch_signed_in(const WebRequest& request, const Session& session, UnixTime now) {
    const PageContext ctx{request, session, now};
    if (request.method == "POST") {
        if (!token_matches(session.csrf_token, request.param("csrf"))) {
            log("web: refused " + request.path + " by " + session.account + ": CSRF token missing or wrong");
            return message_response(403, "Refused",
                                    "The form carried no valid CSRF token (stale or forged): reload the page and try again.",
                                    &ctx);
        }
        if (request.path == "/logout")
            return logout(*this, ctx, cookie_value(request.cookie, kSessionCookie).value_or(""));
        const PostAction* action = nullptr;
        for (const auto& a : kPostActions)
            if (request.path == a.path) action = &a;
        if (action == nullptr) return message_response(404, "Not found", "No such action.", &ctx);
        if (action->changes && !ctx.admin()) {
            log("web: refused " + request.path + " by " + session.account + ": helpdesk accounts change nothing");
            return message_response(403, "Refused", "A helpdesk account can read every page but change nothing.", &ctx);
        }
        auto body = action->run(*this, ctx);
        return body ? page_response(ctx, *body) : error_response(body.error(), &ctx);
    }
    if (request.path == "/reports.csv") {
        auto csv = reports_csv(*this, ctx);
        return csv ? *csv : error_response(csv.error(), &ctx);
    }
    Result<PageBody> body = fail(ErrorKind::Input, "");
    bool found = false;
    for (const auto& page : kBuiltinPages)
        if (request.path == page.path) {
            body = page.render(*this, ctx);
            found = true;
        }
    if (request.path == "/device") {
        body = device_page(*this, ctx);
        found = true;
    }
    for (const auto& page : pages_)
        if (!found && request.path == page.path) {
            body = page.render(*this, ctx);
            found = true;
        }
    if (!found) return message_response(404, "Not found", "No such page.", &ctx);
    return body ? page_response(ctx, *body) : error_response(body.error(), &ctx);
}

WebResponse WebApp::page_response(const PageContext& ctx, const PageBody& body) {
    auto html = render_template(body.template_name, body.data);
    if (!html) return error_response(html.error(), nullptr);
    TemplateList nav;
    auto add_nav = [&](const std::string& path, const std::string& label) {
        nav.push_back(TemplateObject{{"href", path}, {"label", label}, {"current", ctx.request.path == path}});
    };
    for (const auto& page : kBuiltinPages) add_nav(page.path, page.label);
    for (const auto& page : pages_) add_nav(page.path, page.label);
    TemplateData layout;
    layout.set("title", body.title);
    layout.set("nav", nav);
    layout.set("account", ctx.session.account);
    layout.set("role", std::string(to_string(ctx.session.role)));
    layout.set("csrf", ctx.session.csrf_token);
    layout.set("signed_in", true);
    layout.set("body", *html);
    auto page = render_template("layout", layout);
    if (!page) return error_response(page.error(), nullptr);
    WebResponse r;
    r.status = body.status;
    r.body = std::move(*page);
    return r;
}

WebResponse WebApp::message_response(int status, const std::string& title, const std::string& message,
                                     const PageContext* ctx) {
    TemplateData data;
    data.set("message", message);
    PageBody body{title, "message", data, status};
    if (ctx != nullptr) return page_response(*ctx, body);
    auto html = render_template("message", data);
    TemplateData layout;
    layout.set("title", title);
    layout.set("signed_in", false);
    layout.set("body", html ? *html : std::string());
    auto page = render_template("layout", layout);
    WebResponse r;
    r.status = status;
    if (page) {
        r.body = std::move(*page);
    } else {
        r.content_type = "text/plain; charset=utf-8";
        r.body = title + "\n";
    }
    return r;
}

WebResponse WebApp::error_response(const Error& error, const PageContext* ctx) {
    if (error.kind == ErrorKind::Internal) {
        log("web: internal error: " + error.message);
        return message_response(500, "Internal error", "Something failed on the server; the details are in its log.",
                                ctx);
    }
    return message_response(http_status_of(error.kind), "Not done", error.message, ctx);
}

}  // namespace lscgate::web
