#include "core/device_name.h"

#include <cctype>
#include <charconv>
#include <cstdio>

namespace lscgate {

Result<std::string> normalize_device_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return fail("device name must be 1 to 64 characters");
    std::string out(name);
    for (char c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (!std::isalnum(u) && c != '.' && c != '_' && c != '-')
            return fail("invalid device name '" + std::string(name) + "': only letters, digits, '.', '_' and '-'");
    }
    if (out.size() == 15 && (out.rfind("SEP", 0) == 0 || out.rfind("sep", 0) == 0)) {
        bool hex = true;
        for (std::size_t i = 3; i < out.size(); ++i) hex = hex && std::isxdigit(static_cast<unsigned char>(out[i]));
        if (hex)
            for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
}

Result<std::string> next_sep_name(std::string_view name, unsigned long long step) {
    auto norm = normalize_device_name(name);
    if (!norm) return norm.error();
    if (norm->size() != 15 || norm->rfind("SEP", 0) != 0)
        return fail("'" + std::string(name) + "' is not SEP followed by 12 hex digits");
    unsigned long long mac = 0;
    const auto* b = norm->data() + 3;
    if (std::from_chars(b, b + 12, mac, 16).ec != std::errc{}) return fail("bad MAC in " + *norm);
    mac += step;
    if (mac > 0xFFFFFFFFFFFFull) return fail("MAC address range exhausted after " + *norm);
    char buf[16];
    std::snprintf(buf, sizeof buf, "SEP%012llX", mac);
    return std::string(buf);
}

}  // namespace lscgate
