#pragma once

// What every response of `lscgate web` carries and where it may listen (issue
// 14): the security headers, the cookie attributes, the Cookie header read for
// our own two cookies, and the listen address with its loopback rule.

#include "pki/result.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lscgate::web {

/// The session cookie. The __Host- prefix makes browsers refuse it unless it is
/// Secure, has Path=/ and no Domain: no other host or plain-HTTP page can set it.
inline constexpr std::string_view kSessionCookie = "__Host-lscgate";
/// The sign-in form's CSRF cookie (double-submit: the form carries the same
/// random value), set by GET /login and cleared at sign-in.
inline constexpr std::string_view kLoginCookie = "__Host-lscgate-login";

/// The Content-Security-Policy: only this origin's style sheet, no script at
/// all (the pages work without JavaScript), no framing, forms to this origin only.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

/// Headers for every response, errors included: CSP, HSTS (one year),
/// X-Content-Type-Options nosniff, Referrer-Policy no-referrer, X-Frame-Options
/// DENY, Cross-Origin-Opener/Resource-Policy same-origin, Permissions-Policy,
/// and Cache-Control no-store (pages show authentication strings and who is
/// signed in: no cache may keep them).
std::vector<std::pair<std::string, std::string>> security_headers();

/// A Set-Cookie value: `name`=`value`; Path=/; Secure; HttpOnly; SameSite=Strict.
/// No Max-Age: the browser drops it when it closes; the server enforces the timeouts.
std::string cookie_header(std::string_view name, std::string_view value);
/// A Set-Cookie value that removes `name` (empty, Max-Age=0, same attributes).
std::string cookie_removal(std::string_view name);

/// The value of cookie `name` in a Cookie request header ("a=1; b=2"), the first
/// if several; nullopt when absent.
std::optional<std::string> cookie_value(std::string_view header, std::string_view name);

/// Where `lscgate web` listens.
struct ListenAddress {
    std::string host;  ///< an IPv4 or IPv6 literal, without brackets
    int port = 0;
    bool loopback = false;  ///< 127.0.0.0/8 or ::1
    /// "127.0.0.1:8443", "[::1]:8443".
    std::string text() const;
};

/// Parses [web] listen / --listen: "HOST:PORT" with HOST an IPv4 literal,
/// "[IPv6]" or "localhost" (127.0.0.1), PORT 1-65535. Errors (Config).
Result<ListenAddress> parse_listen_address(std::string_view text);

/// Refuses (kind Config) a non-loopback address unless `allow_remote` ([web]
/// allow_remote = true): the pages change the registry, so reaching them from
/// the network must be a decision written down in the configuration.
Status check_listen_allowed(const ListenAddress& address, bool allow_remote);

/// The HTTP status a page answers for an error of `kind`: Input 400, Config 409
/// (the registry's state forbids it), AuthFailed 403, Unavailable 503, Internal 500.
int http_status_of(ErrorKind kind);

}  // namespace lscgate::web
