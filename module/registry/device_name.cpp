#include "registry/device_name.h"

#include "pki/printable.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <unordered_map>

namespace lscgate {
namespace {

struct ClassPrefix {
    DeviceClass cls;
    std::string_view prefix;
};
constexpr ClassPrefix kPrefixes[] = {{DeviceClass::Sep, "SEP"}, {DeviceClass::Ata, "ATA"}, {DeviceClass::Csf, "CSF"},
                                     {DeviceClass::Tct, "TCT"}, {DeviceClass::Bot, "BOT"}, {DeviceClass::Tab, "TAB"}};

bool is_name_char(unsigned char c) { return std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-'; }

char upper(char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }

// The class a name claims by its first three letters, in any case, so that
// "tctjdoe" is judged (and refused) by the TCT rule rather than passing as "other".
DeviceClass claimed_class(std::string_view name) {
    if (name.size() < 3) return DeviceClass::Other;
    for (const auto& p : kPrefixes)
        if (upper(name[0]) == p.prefix[0] && upper(name[1]) == p.prefix[1] && upper(name[2]) == p.prefix[2]) return p.cls;
    return DeviceClass::Other;
}

std::string quoted_name(std::string_view name) { return "'" + escape_nonprintable(name) + "'"; }

Error rule_error(std::string_view name, const std::string& rule) {
    return fail(ErrorKind::Input, "invalid device name " + quoted_name(name) + ": " + rule);
}

// A prefix of three letters and exactly 12 hex digits (the MAC address).
bool has_mac_digits(std::string_view name) {
    return name.size() == 15 &&
           std::all_of(name.begin() + 3, name.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

Result<std::string> mac_name(std::string_view name, DeviceClass cls) {
    if (!has_mac_digits(name))
        return rule_error(name, std::string(cls == DeviceClass::Sep ? "SEP" : "ATA") +
                                    " names are the prefix followed by exactly 12 hex digits (the MAC address)");
    std::string out(name);
    std::transform(out.begin(), out.end(), out.begin(), upper);
    return out;
}

Result<std::string> soft_client_name(std::string_view name, DeviceClass cls) {
    const std::string prefix(name.substr(0, 3));
    const std::string upper_prefix = {upper(prefix[0]), upper(prefix[1]), upper(prefix[2])};
    if (name.size() == 3) return rule_error(name, upper_prefix + " must be followed by 1 to 12 more characters");
    if (cls == DeviceClass::Csf) {
        if (prefix != "CSF") return rule_error(name, "CSF (Jabber for Windows/Mac) names start with upper-case 'CSF'");
        for (char c : name.substr(3))
            if (std::isalnum(static_cast<unsigned char>(c)) == 0)
                return rule_error(name, "CSF (Jabber for Windows/Mac) names are CSF followed by letters and digits only");
        return std::string(name);
    }
    for (char c : name)
        if (std::islower(static_cast<unsigned char>(c)) != 0) {
            std::string suggestion(name);
            std::transform(suggestion.begin(), suggestion.end(), suggestion.begin(), upper);
            return rule_error(name, std::string(describe(cls)) + " names are upper case: " + upper_prefix +
                                        " followed by A-Z, 0-9, '.', '_', '-' (did you mean '" + suggestion + "'?)");
        }
    return std::string(name);
}

}  // namespace

Result<std::string> normalize_device_name(std::string_view name) {
    if (name.empty()) return fail(ErrorKind::Input, "device name is empty");
    if (!std::all_of(name.begin(), name.end(), [](char c) { return is_name_char(static_cast<unsigned char>(c)); }))
        return rule_error(name, "only letters, digits, '.', '_' and '-' are allowed");
    if (name.size() > kMaxDeviceNameLength)
        return rule_error(name, std::to_string(name.size()) + " characters; CUCM device names have at most 15");
    switch (const DeviceClass cls = claimed_class(name)) {
        case DeviceClass::Sep:
        case DeviceClass::Ata: return mac_name(name, cls);
        case DeviceClass::Csf:
        case DeviceClass::Tct:
        case DeviceClass::Bot:
        case DeviceClass::Tab: return soft_client_name(name, cls);
        case DeviceClass::Other: break;
    }
    return std::string(name);
}

DeviceClass device_class(std::string_view normalized_name) { return claimed_class(normalized_name); }

const char* describe(DeviceClass cls) {
    switch (cls) {
        case DeviceClass::Sep: return "SEP (phone)";
        case DeviceClass::Ata: return "ATA (analog adapter)";
        case DeviceClass::Csf: return "CSF (Jabber for Windows/Mac)";
        case DeviceClass::Tct: return "TCT (Jabber for iPhone)";
        case DeviceClass::Bot: return "BOT (Jabber for Android)";
        case DeviceClass::Tab: return "TAB (Jabber for tablets)";
        case DeviceClass::Other: break;
    }
    return "device";
}

bool is_soft_client(DeviceClass cls) {
    return cls == DeviceClass::Csf || cls == DeviceClass::Tct || cls == DeviceClass::Bot || cls == DeviceClass::Tab;
}

Result<DeviceNameList> normalize_device_names(const std::vector<std::string>& raw) {
    DeviceNameList out;
    std::unordered_map<std::string, int> seen;  // name → times given
    for (const auto& r : raw) {
        auto name = normalize_device_name(r);
        if (!name) return name.error();
        const int times = ++seen[*name];
        if (times == 1) out.names.push_back(std::move(*name));
        else if (times == 2) out.duplicates.push_back(std::move(*name));
    }
    return out;
}

Result<std::string> next_sep_name(std::string_view name, unsigned long long step) {
    auto norm = normalize_device_name(name);
    if (!norm) return norm.error();
    if (device_class(*norm) != DeviceClass::Sep)
        return fail(ErrorKind::Input, quoted_name(name) + " is not SEP followed by 12 hex digits");
    unsigned long long mac = 0;
    const auto* b = norm->data() + 3;
    if (std::from_chars(b, b + 12, mac, 16).ec != std::errc{}) return fail("bad MAC in " + *norm);
    mac += step;
    if (mac > 0xFFFFFFFFFFFFull) return fail(ErrorKind::Input, "MAC address range exhausted after " + *norm);
    char buf[16];
    std::snprintf(buf, sizeof buf, "SEP%012llX", mac);
    return std::string(buf);
}

bool looks_like_phone_name(std::string_view cn) {
    return claimed_class(cn) == DeviceClass::Sep && has_mac_digits(cn);
}

std::string device_from_common_name(std::string_view cn) {
    if (looks_like_phone_name(cn)) return *normalize_device_name(cn);
    const auto dash = cn.rfind('-');
    if (dash != std::string_view::npos && looks_like_phone_name(cn.substr(dash + 1)))
        return *normalize_device_name(cn.substr(dash + 1));
    return std::string(cn);
}

bool mic_common_name_names_device(std::string_view cn, std::string_view device) {
    if (cn == device) return true;
    return cn.size() > device.size() && cn.substr(cn.size() - device.size()) == device &&
           cn[cn.size() - device.size() - 1] == '-';
}

}  // namespace lscgate
