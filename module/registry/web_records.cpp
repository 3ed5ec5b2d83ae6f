#include "registry/web_records.h"

#include "pki/printable.h"

namespace lscgate {

std::string_view to_string(WebRole role) { return role == WebRole::Admin ? "admin" : "helpdesk"; }

Result<WebRole> parse_web_role(std::string_view text) {
    if (text == "admin") return WebRole::Admin;
    if (text == "helpdesk") return WebRole::Helpdesk;
    return fail(ErrorKind::Input, "invalid role '" + escape_nonprintable(text) + "': expected admin|helpdesk");
}

std::string_view to_string(LscStatus status) {
    switch (status) {
        case LscStatus::Active: return "active";
        case LscStatus::Unconfirmed: return "unconfirmed";
        case LscStatus::Revoked: return "revoked";
        case LscStatus::None: return "none";
    }
    return "none";
}

Result<LscStatus> parse_lsc_status(std::string_view text) {
    for (LscStatus s : {LscStatus::Active, LscStatus::Unconfirmed, LscStatus::Revoked, LscStatus::None})
        if (to_string(s) == text) return s;
    return fail(ErrorKind::Input,
                "invalid LSC status '" + escape_nonprintable(text) + "': expected active|unconfirmed|revoked|none");
}

}  // namespace lscgate
