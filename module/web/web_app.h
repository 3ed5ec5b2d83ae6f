#pragma once

// `lscgate web` without the network (issue 14): a request in, a response out.
// The HTTPS server (web_server.h) turns each httplib request into a WebRequest
// and writes back the WebResponse; tests and the benchmark call handle()
// directly. Every request is checked in this order: the static style sheet and
// the sign-in form need no session; everything else needs a live session
// (otherwise: GET → 303 to /login, POST → 403); every POST needs the session's
// CSRF token (403 without it); every POST that changes the registry needs the
// admin role (403 for helpdesk). handle() never throws: an exception becomes a
// 500 page with no detail (the detail is logged).
//
// Extension points for what only the CLI can do: add_page() puts a page in the
// navigation (doctor), add_device_panel() a section on every device page (the
// device's doctor findings), and WebHooks::after_revoke runs after a revocation
// (the CLI renews the CRL there and, with [coa] on_revoke, sends the CoA).
// POST /bulk/preview only reads (any account); the other POSTs need admin.

#include "fleet/last_seen_source.h"
#include "registry/store.h"
#include "web/login_guard.h"
#include "web/session_store.h"
#include "web/templates.h"

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace lscgate::web {

/// A file field of a multipart/form-data POST (the bulk page's upload).
struct WebUpload {
    std::string filename;  ///< as the browser sent it (untrusted: shown escaped, never used as a path)
    std::string content;   ///< the bytes
};

/// One HTTP request as the pages see it (httplib already parsed it).
struct WebRequest {
    std::string method;                         ///< "GET" or "POST" (HEAD is answered as GET)
    std::string path;                           ///< without the query
    std::map<std::string, std::string> params;  ///< query and form fields (the first of each name)
    std::string cookie;                         ///< the Cookie header
    std::string remote_addr;                    ///< the client's address (throttling, audit)
    std::map<std::string, WebUpload> uploads{}; ///< multipart file fields with a file name (the first of each name)

    /// The parameter `name`, or "" when absent.
    std::string param(const std::string& name) const;
};

/// What to send back. Security headers are added by the server for every response.
struct WebResponse {
    int status = 200;
    std::string content_type = "text/html; charset=utf-8";
    std::string body;
    std::string location;                  ///< a redirect target (status 303)
    std::vector<std::string> set_cookies;  ///< Set-Cookie values
    /// A download: sent with Content-Disposition: attachment; filename="…"
    /// (letters, digits, '.', '-', '_' only: the pages choose it, never a user).
    std::string download_name;
};

/// A page's title, template and data; the app wraps it in the layout.
struct PageBody {
    std::string title;
    std::string template_name;
    TemplateData data;
    int status = 200;
};

class WebApp;

/// What a page handler is given: the request, the signed-in session, the time.
struct PageContext {
    const WebRequest& request;
    const Session& session;
    UnixTime now = 0;
    std::string actor() const { return "web:" + session.account; }  ///< the audit trail's actor
    bool admin() const { return session.role == WebRole::Admin; }
};

/// A page in the navigation (GET only). Errors become an error page with the
/// error kind's status (Input 400, Config 409, Unavailable 503, Internal 500).
struct NavPage {
    std::string path;   ///< "/rollouts"
    std::string label;  ///< "Rollouts"
    std::function<Result<PageBody>(WebApp&, const PageContext&)> render;
};

/// A section of every device page: its title and its HTML, rendered from a
/// template (render_template) so that every value is escaped.
struct DevicePanel {
    std::string title;
    std::function<Result<std::string>(WebApp&, const PageContext&, const Device&)> render;
};

/// What runs after the web pages changed something, outside the registry.
struct WebHooks {
    /// After a revocation committed: returns lines to show (e.g. "CRL 12 with 3
    /// entries" or why it was not renewed; later the CoA's outcome). Runs without
    /// the registry lock; must not throw.
    std::function<std::vector<std::string>(const CertificateRecord&, const std::string& actor)> after_revoke;
};

struct WebOptions {
    /// What the RADIUS nodes last saw (MIC-seen counts, sightings, report
    /// columns): the PostgreSQL registry, or [web] last_seen on a SQLite one.
    LastSeenSource last_seen;
    SessionPolicy sessions;
    LockoutPolicy lockout;
    int failures_per_address_per_minute = 20;
    std::function<void(const std::string&)> log;  ///< one line per event; never a secret
};

class WebApp {
public:
    /// `store`: the registry, used by one request at a time (with_store).
    WebApp(Store store, WebOptions options, WebHooks hooks = {});

    /// Answers one request at `now` (Unix seconds). Never throws.
    WebResponse handle(const WebRequest& request, UnixTime now);

    void add_page(NavPage page);
    void add_device_panel(DevicePanel panel);

    /// Runs `f(Store&)` holding the registry lock (one Store is one connection:
    /// one thread at a time).
    template <class F>
    auto with_store(F&& f) -> decltype(f(std::declval<Store&>())) {
        std::lock_guard lock(store_mutex_);
        return f(store_);
    }

    SessionStore& sessions() { return sessions_; }
    LoginThrottle& throttle() { return throttle_; }
    const WebOptions& options() const { return options_; }
    const WebHooks& hooks() const { return hooks_; }
    const std::vector<DevicePanel>& device_panels() const { return panels_; }
    /// Serialises sign-ins: a sign-in reads and writes the account's lockout
    /// state, and Argon2id (64 MiB) runs at most once at a time.
    std::mutex& login_mutex() { return login_mutex_; }
    /// An Argon2id hash of a random password: unknown names are checked against
    /// it, so a wrong name costs as long as a wrong password.
    const std::string& decoy_hash() const { return decoy_hash_; }
    void log(const std::string& line) const;

    /// Wraps `body` in the layout (navigation, account, sign-out form) as a response.
    WebResponse page_response(const PageContext& ctx, const PageBody& body);
    /// A page with one message (errors, refusals), with the layout when signed in.
    WebResponse message_response(int status, const std::string& title, const std::string& message,
                                 const PageContext* ctx);
    /// `error` as a page with its kind's status; Internal detail is logged, not shown.
    WebResponse error_response(const Error& error, const PageContext* ctx);

private:
    WebResponse dispatch(const WebRequest& request, UnixTime now);
    WebResponse dispatch_signed_in(const WebRequest& request, const Session& session, UnixTime now);
    std::optional<Session> current_session(const WebRequest& request, UnixTime now);

    Store store_;
    std::mutex store_mutex_;
    std::mutex login_mutex_;
    WebOptions options_;
    WebHooks hooks_;
    SessionStore sessions_;
    LoginThrottle throttle_;
    std::string decoy_hash_;
    std::vector<NavPage> pages_;
    std::vector<DevicePanel> panels_;
};

}  // namespace lscgate::web
