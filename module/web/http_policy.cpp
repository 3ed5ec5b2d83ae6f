#include "web/http_policy.h"

#include "pki/printable.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>

namespace lscgate::web {

std::vector<std::pair<std::string, std::string>> security_headers() {
    return {{"Content-Security-Policy", std::string(kContentSecurityPolicy)},
            {"Strict-Transport-Security", "max-age=31536000"},
            {"X-Content-Type-Options", "nosniff"},
            {"Referrer-Policy", "no-referrer"},
            {"X-Frame-Options", "DENY"},
            {"Cross-Origin-Opener-Policy", "same-origin"},
            {"Cross-Origin-Resource-Policy", "same-origin"},
            {"Permissions-Policy", "camera=(), microphone=(), geolocation=()"},
            {"Cache-Control", "no-store"}};
}

std::string cookie_header(std::string_view name, std::string_view value) {
    return std::string(name) + "=" + std::string(value) + "; Path=/; Secure; HttpOnly; SameSite=Strict";
}

std::string cookie_removal(std::string_view name) {
    return std::string(name) + "=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict";
}

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
    // RFC 6265 §4.2.1: cookie-pair *( ";" SP cookie-pair ); tolerant of spaces.
    while (!header.empty()) {
        const auto end = header.find(';');
        std::string_view pair = header.substr(0, end);
        header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
        while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
        const auto eq = pair.find('=');
        if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
        std::string_view value = pair.substr(eq + 1);
        while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
        return std::string(value);
    }
    return std::nullopt;
}

std::string ListenAddress::text() const {
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<ListenAddress> parse_listen_address(std::string_view text) {
    const auto bad = [&](const std::string& why) {
        return fail(ErrorKind::Config, "[web] listen '" + escape_nonprintable(text) + "': " + why);
    };
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("use HOST:PORT, e.g. 127.0.0.1:8443 or [::1]:8443");
    std::string_view host = text.substr(0, colon);
    const std::string_view port_text = text.substr(colon + 1);
    ListenAddress out;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), out.port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || out.port < 1 || out.port > 65535)
        return bad("the port must be 1 to 65535");
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        out.host = std::string(host.substr(1, host.size() - 2));
        in6_addr a6{};
        if (::inet_pton(AF_INET6, out.host.c_str(), &a6) != 1) return bad("not an IPv6 address");
        out.loopback = IN6_IS_ADDR_LOOPBACK(&a6);
        return out;
    }
    out.host = host == "localhost" ? "127.0.0.1" : std::string(host);
    in_addr a4{};
    if (::inet_pton(AF_INET, out.host.c_str(), &a4) != 1)
        return bad("HOST must be an IPv4 address, [IPv6] or localhost (a name could resolve anywhere)");
    out.loopback = (ntohl(a4.s_addr) >> 24) == 127;
    return out;
}

Status check_listen_allowed(const ListenAddress& address, bool allow_remote) {
    if (address.loopback || allow_remote) return {};
    return fail(ErrorKind::Config, "refusing to listen on " + address.text() +
                                       ": not a loopback address; set [web] allow_remote = true in lscgate.toml to "
                                       "serve the administration pages to the network");
}

int http_status_of(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::Input: return 400;
        case ErrorKind::Config: return 409;
        case ErrorKind::AuthFailed: return 403;
        case ErrorKind::Unavailable: return 503;
        case ErrorKind::Internal: return 500;
    }
    return 500;
}

}  // namespace lscgate::web
