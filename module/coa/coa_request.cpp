#include "coa/coa_request.h"

#include "pki/printable.h"

#include <arpa/inet.h>

#include <array>
#include <utility>

namespace lscgate {

const char* to_string(CoaMode mode) {
    switch (mode) {
        case CoaMode::Reauthenticate: return "reauthenticate";
        case CoaMode::Disconnect: return "disconnect";
    }
    return "reauthenticate";
}

std::optional<CoaMode> parse_coa_mode(std::string_view text) {
    if (text == "reauthenticate") return CoaMode::Reauthenticate;
    if (text == "disconnect") return CoaMode::Disconnect;
    return std::nullopt;
}

int request_code(CoaMode mode) { return mode == CoaMode::Disconnect ? 40 : 43; }

namespace {

// RFC 2865 §5: an attribute's value is at most 253 octets.
constexpr std::size_t kMaxValue = 253;

// "NAS-IP-Address" / "NAS-IPv6-Address" for an address literal, "" for anything else.
std::string nas_attribute(const std::string& nas) {
    unsigned char buf[16];
    if (::inet_pton(AF_INET, nas.c_str(), buf) == 1) return "NAS-IP-Address";
    if (::inet_pton(AF_INET6, nas.c_str(), buf) == 1) return "NAS-IPv6-Address";
    return "";
}

}  // namespace

Result<std::vector<CoaAttribute>> coa_attributes(const SeenEvent& session, CoaMode mode, std::int64_t now) {
    const std::string device = escape_nonprintable(session.device);
    const std::string nas_name = nas_attribute(session.nas);
    if (nas_name.empty())
        return fail(ErrorKind::Input, device + ": last-seen holds no NAS address ('" + escape_nonprintable(session.nas) +
                                          "')");
    if (session.calling_station_id.empty() && session.audit_session_id.empty() && session.acct_session_id.empty())
        return fail(ErrorKind::Input, device + ": last-seen holds no session identification (Calling-Station-Id, "
                                               "audit-session-id or Acct-Session-Id) for NAS " + session.nas);
    std::vector<CoaAttribute> out;
    out.push_back({"Message-Authenticator", "0x00000000000000000000000000000000"});
    out.push_back({nas_name, session.nas});
    if (!session.calling_station_id.empty()) out.push_back({"Calling-Station-Id", session.calling_station_id});
    if (!session.audit_session_id.empty())
        out.push_back({"Cisco-AVPair", "audit-session-id=" + session.audit_session_id});
    else if (!session.acct_session_id.empty())
        out.push_back({"Acct-Session-Id", session.acct_session_id});
    if (mode == CoaMode::Reauthenticate) out.push_back({"Cisco-AVPair", "subscriber:command=reauthenticate"});
    out.push_back({"Event-Timestamp", std::to_string(now)});
    for (const auto& a : out)
        if (a.value.size() > kMaxValue)
            return fail(ErrorKind::Input, device + ": " + a.name + " is " + std::to_string(a.value.size()) +
                                              " octets, more than a RADIUS attribute holds (253)");
    return out;
}

const char* to_string(CoaOutcome outcome) {
    switch (outcome) {
        case CoaOutcome::Ack: return "ACK";
        case CoaOutcome::Nak: return "NAK";
        case CoaOutcome::Timeout: return "timeout";
        case CoaOutcome::Error: return "error";
    }
    return "error";
}

std::string error_cause_name(std::uint32_t value) {
    // RFC 5176 §3.5, named as FreeRADIUS's dictionary.rfc3576 and dictionary.rfc5176 name them.
    static constexpr std::array<std::pair<std::uint32_t, const char*>, 17> kNames{{
        {201, "Residual-Context-Removed"},
        {202, "Invalid-EAP-Packet"},
        {401, "Unsupported-Attribute"},
        {402, "Missing-Attribute"},
        {403, "NAS-Identification-Mismatch"},
        {404, "Invalid-Request"},
        {405, "Unsupported-Service"},
        {406, "Unsupported-Extension"},
        {407, "Invalid-Attribute-Value"},
        {501, "Administratively-Prohibited"},
        {502, "Proxy-Request-Not-Routable"},
        {503, "Session-Context-Not-Found"},
        {504, "Session-Context-Not-Removable"},
        {505, "Proxy-Processing-Error"},
        {506, "Resources-Unavailable"},
        {507, "Request-Initiated"},
        {508, "Multiple-Session-Selection-Unsupported"},
    }};
    for (const auto& [v, name] : kNames)
        if (v == value) return name;
    return "";
}

std::string describe(const CoaReply& reply) {
    switch (reply.outcome) {
        case CoaOutcome::Ack: return "ACK";
        case CoaOutcome::Nak: {
            if (reply.error_cause == 0) return "NAK";
            const std::string name = error_cause_name(reply.error_cause);
            return "NAK (Error-Cause " + std::to_string(reply.error_cause) + (name.empty() ? "" : " " + name) + ")";
        }
        case CoaOutcome::Timeout:
            return "timeout after " + std::to_string(reply.tries) + (reply.tries == 1 ? " try" : " tries");
        case CoaOutcome::Error: return "error: " + reply.error.message;
    }
    return "error";
}

}  // namespace lscgate
