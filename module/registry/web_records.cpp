#include "registry/web_records.h"

#include "pki/printable.h"

namespace lscgate {

std::string_view to_string(WebRole role) { return role == WebRole::Admin ? "admin" : "helpdesk"; }

Result<WebRole> parse_web_role(std::string_view text) {
    if (text == "admin") return WebRole::Admin;
    if (text == "helpdesk") return WebRole::Helpdesk;
    return fail(ErrorKind::Input, "invalid role '" + escape_nonprintable(text) + "': expected admin|helpdesk");
}

Status check_web_account_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxWebAccountName)
        return fail(ErrorKind::Input, "a web account name has 1 to " + std::to_string(kMaxWebAccountName) + " characters");
    for (char c : name) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == '@' || c == '-';
        if (!ok)
            return fail(ErrorKind::Input, "invalid web account name '" + escape_nonprintable(name) +
                                              "': use A-Z a-z 0-9 . _ @ -");
    }
    return {};
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
