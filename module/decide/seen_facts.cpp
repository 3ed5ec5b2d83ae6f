#include "decide/seen_facts.h"

#include "pki/printable.h"

#include <unistd.h>

#include <array>
#include <cctype>

namespace lscgate {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool equals_no_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
    return true;
}

}  // namespace

std::string bounded_printable(std::string_view text, std::size_t max) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        // One byte at a time, so an escape is never cut in half.
        const std::string piece = escape_nonprintable(text.substr(i, 1));
        if (out.size() + piece.size() > max) break;
        out += piece;
    }
    return out;
}

std::string cisco_audit_session_id(const std::vector<std::string_view>& avpairs) {
    static constexpr std::string_view kName = "audit-session-id";
    for (std::string_view pair : avpairs) {
        const auto sep = pair.find_first_of("=*");
        if (sep == std::string_view::npos) continue;
        if (!equals_no_case(trim(pair.substr(0, sep)), kName)) continue;
        const std::string_view value = trim(pair.substr(sep + 1));
        if (!value.empty()) return bounded_printable(value, kSeenIdMax);
    }
    return {};
}

SeenEvent seen_event(const RadiusRequest& request, const Decision& decision, UnixTime now) {
    SeenEvent e;
    e.device = bounded_printable(decision.device, kSeenDeviceMax);
    e.cls = decision.error ? "error" : std::string(to_string(decision.cls));
    e.nas = bounded_printable(request.nas, kSeenIdMax);
    e.reason = bounded_printable(decision.reason, kSeenReasonMax);
    e.at = now;
    e.calling_station_id = bounded_printable(request.calling_station_id, kSeenIdMax);
    e.nas_port_id = bounded_printable(request.nas_port_id, kSeenPortMax);
    e.acct_session_id = bounded_printable(request.acct_session_id, kSeenIdMax);
    e.audit_session_id = cisco_audit_session_id(request.cisco_avpairs);
    return e;
}

std::string seen_node_name(std::string_view configured) {
    if (!configured.empty()) return bounded_printable(configured, kSeenIdMax);
    std::array<char, 256> host{};
    if (gethostname(host.data(), host.size() - 1) == 0 && host[0] != '\0')
        return bounded_printable(host.data(), kSeenIdMax);
    return "unknown";
}

}  // namespace lscgate
