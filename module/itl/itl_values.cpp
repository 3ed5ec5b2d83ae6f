#include "itl/itl_values.h"

#include <openssl/evp.h>

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <vector>

namespace lscgate::itl {

std::string field_text(const Field& field) {
    const auto nul = std::find(field.value.begin(), field.value.end(), std::uint8_t{0});
    return std::string(field.value.begin(), nul);
}

std::uint32_t field_number(const Field& field) {
    std::uint32_t n = 0;
    for (std::size_t i = 0; i < field.value.size() && i < 4; ++i) n = (n << 8) | field.value[i];
    return n;
}

namespace {

std::string trim(const std::string& s) {
    std::size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b])) != 0) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])) != 0) --e;
    return s.substr(b, e - b);
}

std::string unquote(std::string s) {
    s = trim(s);
    if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) s = trim(s.substr(1, s.size() - 2));
    return s;
}

}  // namespace

std::string normalize_name(const std::string& name) {
    const std::string s = unquote(name);
    std::vector<std::string> parts;
    std::string current;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {  // an escaped separator belongs to the value
            current += s[i];
            current += s[++i];
        } else if (s[i] == ',' || s[i] == ';') {
            parts.push_back(trim(current));
            current.clear();
        } else {
            current += s[i];
        }
    }
    parts.push_back(trim(current));
    std::string out;
    for (const auto& p : parts) {
        if (p.empty()) continue;
        if (!out.empty()) out += ',';
        // "CN = x" and "CN=x" are one RDN: spaces around the first '=' go.
        const auto eq = p.find('=');
        out += eq == std::string::npos ? p : trim(p.substr(0, eq)) + "=" + trim(p.substr(eq + 1));
    }
    return out;
}

bool same_name(const std::string& a, const std::string& b) {
    const auto x = normalize_name(a), y = normalize_name(b);
    return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), [](char c, char d) {
               return std::tolower(static_cast<unsigned char>(c)) == std::tolower(static_cast<unsigned char>(d));
           });
}

std::string serial_hex(ByteView serial) {
    std::size_t first = 0;
    while (first + 1 < serial.size() && serial[first] == 0) ++first;
    return to_hex(serial.subspan(first));
}

std::string address_text(ByteView address) {
    std::array<char, INET6_ADDRSTRLEN> text{};
    if (address.size() == 4 && ::inet_ntop(AF_INET, address.data(), text.data(), text.size()) != nullptr)
        return text.data();
    if (address.size() == 16 && ::inet_ntop(AF_INET6, address.data(), text.data(), text.size()) != nullptr)
        return text.data();
    return to_hex(address);
}

std::string digest_hex(ByteView data, const char* digest_name) {
    std::unique_ptr<EVP_MD, decltype(&EVP_MD_free)> md(EVP_MD_fetch(nullptr, digest_name, nullptr), &EVP_MD_free);
    if (!md) return "";
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int n = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &n, md.get(), nullptr) != 1) return "";
    return to_hex(ByteView(out.data(), n));
}

}  // namespace lscgate::itl
