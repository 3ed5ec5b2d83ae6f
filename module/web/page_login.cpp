// Sign-in and sign-out of `lscgate web` (issue 14): the form with its
// double-submit CSRF cookie, the per-address throttle, the account lockout
// (web/login_guard.h), Argon2id, and a fresh session id at every sign-in.
// Every outcome is in the audit trail with the account name (an unknown name
// is not written: it may be a password typed into the wrong field).

#include "pki/printable.h"
#include "web/http_policy.h"
#include "web/pages.h"
#include "web/password_hash.h"

namespace lscgate::web {
namespace {

// One message for a wrong name, a wrong password and a locked account: the
// page never tells which names exist or which are locked.
constexpr const char* kRefused =
    "Sign-in refused: wrong name or password, or the account is locked after too many wrong passwords.";

void audit(WebApp& app, const std::string& actor, const std::string& action, const std::string& detail) {
    auto s = app.with_store([&](Store& store) { return store.audit(actor, action, "", detail); });
    if (!s) app.log("web: cannot write the audit trail (" + action + "): " + s.message());
}

WebResponse refused(WebApp& app, const WebRequest& request, UnixTime now) {
    app.throttle().record_failure(request.remote_addr, now);
    return login_form(app, request, 401, kRefused);
}

// A wrong password for `account`: the count, maybe the lock, both audited.
WebResponse wrong_password(WebApp& app, const WebRequest& request, const WebAccount& account, UnixTime now) {
    const LockoutPolicy& policy = app.options().lockout;
    const LoginFailure f = after_failed_login(account, now, policy);
    auto s = app.with_store([&](Store& store) { return store.set_web_login_state(account.name, f.failed_logins, f.locked_until); });
    if (!s) app.log("web: cannot record the failed sign-in of " + account.name + ": " + s.message());
    const std::string actor = "web:" + account.name;
    const int count = f.locked_now ? policy.failures : f.failed_logins;
    audit(app, actor, "web.login-failed",
          "wrong password from " + request.remote_addr + " (" + std::to_string(count) + " of " +
              std::to_string(policy.failures) + ")");
    app.log("web: sign-in of " + account.name + " from " + request.remote_addr + " refused: wrong password");
    if (f.locked_now) {
        audit(app, actor, "web.lockout",
              "locked for " + std::to_string(policy.lock_seconds) + "s after " + std::to_string(policy.failures) +
                  " wrong passwords");
        app.log("web: account " + account.name + " locked for " + std::to_string(policy.lock_seconds) + "s");
    }
    return refused(app, request, now);
}

WebResponse signed_in(WebApp& app, const WebRequest& request, const WebAccount& account, UnixTime now) {
    if (account.failed_logins != 0 || account.locked_until) {
        auto s = app.with_store([&](Store& store) { return store.set_web_login_state(account.name, 0, std::nullopt); });
        if (!s) app.log("web: cannot clear the failed sign-ins of " + account.name + ": " + s.message());
    }
    auto id = app.sessions().create(account.name, account.role, account.password_hash, now);
    if (!id) return app.error_response(id.error(), nullptr);
    audit(app, "web:" + account.name, "web.login", "from " + request.remote_addr);
    app.log("web: " + account.name + " (" + std::string(to_string(account.role)) + ") signed in from " +
            request.remote_addr);
    WebResponse r;
    r.status = 303;
    r.location = "/";
    r.set_cookies = {cookie_header(kSessionCookie, *id), cookie_removal(kLoginCookie)};
    return r;
}

}  // namespace

WebResponse login_form(WebApp& app, const WebRequest& request, int status, const std::string& message) {
    Result<std::string> token = fail("");
    if (auto held = cookie_value(request.cookie, kLoginCookie); held && is_token_text(*held)) token = *held;
    else token = random_token();
    if (!token) return app.error_response(token.error(), nullptr);
    TemplateData data;
    data.set("csrf", *token);
    data.set("message", message);
    data.set("has_message", !message.empty());
    auto html = render_template("login", data);
    if (!html) return app.error_response(html.error(), nullptr);
    TemplateData layout;
    layout.set("title", "Sign in");
    layout.set("signed_in", false);
    layout.set("body", *html);
    auto page = render_template("layout", layout);
    if (!page) return app.error_response(page.error(), nullptr);
    WebResponse r;
    r.status = status;
    r.body = std::move(*page);
    r.set_cookies = {cookie_header(kLoginCookie, *token)};
    return r;
}

WebResponse login_submit(WebApp& app, const WebRequest& request, UnixTime now) {
    if (const auto wait = app.throttle().wait_seconds(request.remote_addr, now); wait > 0) {
        app.log("web: sign-in from " + request.remote_addr + " throttled for " + std::to_string(wait) + "s");
        return login_form(app, request, 429, "Too many failed sign-ins from this address: try again in " +
                                        std::to_string(wait) + " seconds.");
    }
    // Double submit: only a form this server handed to this browser carries the
    // cookie's value (SameSite=Strict keeps the cookie off cross-site posts).
    const auto cookie = cookie_value(request.cookie, kLoginCookie);
    if (!cookie || !token_matches(*cookie, request.param("csrf")))
        return login_form(app, request, 403, "The sign-in form was stale or forged (CSRF token missing or wrong): try again.");
    const std::string name = request.param("name");
    const std::string password = request.param("password");
    if (name.empty() || name.size() > 64 || password.size() > kMaxPasswordLength) return refused(app, request, now);
    // One sign-in at a time: the lockout count is read, decided and written
    // without another sign-in of the same account in between.
    std::lock_guard lock(app.login_mutex());
    auto found = app.with_store([&](Store& s) { return s.find_web_account(name); });
    if (!found) return app.error_response(found.error(), nullptr);
    if (!found->has_value()) {
        (void)verify_password(password, app.decoy_hash());  // the same cost as a known name
        audit(app, "web", "web.login-failed", "unknown account from " + request.remote_addr);
        app.log("web: sign-in from " + request.remote_addr + " refused: unknown account");
        return refused(app, request, now);
    }
    const WebAccount& account = **found;
    auto match = verify_password(password, account.password_hash);
    if (!match) return app.error_response(match.error(), nullptr);
    if (is_locked(account, now)) {
        audit(app, "web:" + account.name, "web.login-refused",
              "locked until " + format_utc(*account.locked_until) + ", from " + request.remote_addr);
        app.log("web: sign-in of " + account.name + " from " + request.remote_addr + " refused: locked");
        return refused(app, request, now);
    }
    if (!*match) return wrong_password(app, request, account, now);
    return signed_in(app, request, account, now);
}

WebResponse logout(WebApp& app, const PageContext& ctx, std::string_view session_id) {
    app.sessions().remove(session_id);
    audit(app, ctx.actor(), "web.logout", "from " + ctx.request.remote_addr);
    app.log("web: " + ctx.session.account + " signed out");
    WebResponse r;
    r.status = 303;
    r.location = "/login";
    r.set_cookies = {cookie_removal(kSessionCookie)};
    return r;
}

}  // namespace lscgate::web
