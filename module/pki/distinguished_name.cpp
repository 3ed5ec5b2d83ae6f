#include "pki/distinguished_name.h"

#include "pki/openssl_error.h"
#include "pki/printable.h"

#include <algorithm>
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

}  // namespace

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
