#include "pki/distinguished_name.h"

#include "pki/openssl_error.h"
#include "pki/printable.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

namespace lscgate {
namespace {

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
}

std::vector<std::string> split_escaped(std::string_view text, char sep) {
    std::vector<std::string> parts;
    std::string cur;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) {
            cur.push_back(text[++i]);
        } else if (text[i] == sep) {
            parts.push_back(cur);
            cur.clear();
        } else {
            cur.push_back(text[i]);
        }
    }
    parts.push_back(cur);
    return parts;
}

// Where a oneline value (the text after "ATTR=") ends: at the next "/ATTR=",
// else at its end. A '/' not followed by an alphanumeric attribute and '=' is
// part of the value.
std::size_t oneline_value_end(std::string_view value) {
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] != '/') continue;
        const auto eq = value.find('=', i + 1);
        const auto next_slash = value.find('/', i + 1);
        if (eq != std::string_view::npos && (next_slash == std::string_view::npos || eq < next_slash)) {
            bool attr = eq > i + 1;
            for (std::size_t j = i + 1; j < eq && attr; ++j) attr = std::isalnum(static_cast<unsigned char>(value[j])) != 0;
            if (attr) return i;
        }
    }
    return value.size();
}

}  // namespace

std::string common_name_of_oneline(std::string_view dn) {
    const auto at = dn.rfind("/CN=");
    if (at == std::string_view::npos) return dn.rfind("CN=", 0) == 0 ? std::string(dn.substr(3)) : std::string();
    const auto value = dn.substr(at + 4);
    return std::string(value.substr(0, oneline_value_end(value)));
}

bool oneline_has_common_name(std::string_view dn, std::string_view cn) {
    if (cn.empty()) return false;
    const std::string needle = "/CN=" + std::string(cn);
    for (auto at = dn.find(needle); at != std::string_view::npos; at = dn.find(needle, at + 1)) {
        const auto end = at + needle.size();
        if (end == dn.size() || dn[end] == '/') return true;
    }
    return false;
}

std::string common_name_of_distinguished_name(std::string_view dn) {
    if (!dn.empty() && dn.front() == '/') return common_name_of_oneline(dn);
    std::size_t pos = 0;
    while (pos <= dn.size()) {
        auto end = dn.find(',', pos);
        if (end == std::string_view::npos) end = dn.size();
        auto part = dn.substr(pos, end - pos);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        if (part.size() > 3 && (part[0] == 'C' || part[0] == 'c') && (part[1] == 'N' || part[1] == 'n') && part[2] == '=')
            return std::string(part.substr(3));
        pos = end + 1;
    }
    return {};
}

std::string with_common_name(std::string_view oneline, std::string_view cn) {
    const auto at = oneline.rfind("/CN=");
    if (at == std::string_view::npos) return {};
    const auto value_at = at + 4;
    const auto value_end = value_at + oneline_value_end(oneline.substr(value_at));
    return std::string(oneline.substr(0, value_at)) + std::string(cn) + std::string(oneline.substr(value_end));
}

Result<X509NamePtr> parse_distinguished_name(std::string_view text) {
    const bool oneline = !text.empty() && text.front() == '/';
    auto parts = split_escaped(oneline ? text.substr(1) : text, oneline ? '/' : ',');
    // RFC 2253 writes the most specific attribute (CN) first; the certificate
    // stores it last. The oneline form is already in certificate order.
    if (!oneline) std::reverse(parts.begin(), parts.end());
    X509NamePtr name(X509_NAME_new());
    for (const auto& raw : parts) {
        const auto part = trim(raw);
        if (part.empty()) continue;
        const auto eq = part.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == part.size())
            return fail(ErrorKind::Input, "invalid distinguished name '" + escape_nonprintable(text) + "': '" + escape_nonprintable(part) + "' is not ATTR=value");
        const auto attr = trim(std::string_view(part).substr(0, eq));
        const auto value = trim(std::string_view(part).substr(eq + 1));
        if (X509_NAME_add_entry_by_txt(name.get(), attr.c_str(), MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0) != 1)
            return fail(openssl_error("invalid distinguished name attribute '" + escape_nonprintable(attr) + "'"));
    }
    if (X509_NAME_entry_count(name.get()) == 0) return fail("distinguished name is empty");
    return name;
}

}  // namespace lscgate
