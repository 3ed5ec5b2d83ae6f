#include "coa/nas_secrets.h"

#include "pki/secure_file.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <vector>

namespace lscgate {

std::optional<std::string> canonical_address(const std::string& text) {
    unsigned char buf[16];
    char out[INET6_ADDRSTRLEN];
    for (int family : {AF_INET, AF_INET6}) {
        if (::inet_pton(family, text.c_str(), buf) == 1 && ::inet_ntop(family, buf, out, sizeof out) != nullptr)
            return std::string(out);
    }
    return std::nullopt;
}

namespace {

// The whitespace-separated fields of a line.
std::vector<std::string_view> fields_of(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        if (i > start) out.push_back(line.substr(start, i - start));
    }
    return out;
}

std::optional<std::uint16_t> port_of(std::string_view text) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

}  // namespace

Result<NasSecrets> NasSecrets::parse(std::string_view text, const std::string& origin) {
    NasSecrets out;
    std::size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const auto f = fields_of(line);
        if (f.empty() || f[0].front() == '#') continue;
        const std::string where = origin + ":" + std::to_string(line_no) + ": ";
        if (f.size() < 2 || f.size() > 3)
            return fail(ErrorKind::Config, where + "expected 'ADDRESS SECRET [PORT]' (" + std::to_string(f.size()) +
                                               " fields; a secret holds no whitespace)");
        NasSecret entry{std::string(f[1]), std::nullopt};
        if (f.size() == 3) {
            entry.port = port_of(f[2]);
            if (!entry.port) return fail(ErrorKind::Config, where + "the port must be 1 to 65535");
        }
        if (f[0] == "*") {
            if (out.fallback_) return fail(ErrorKind::Config, where + "a second '*' line");
            out.fallback_ = std::move(entry);
            continue;
        }
        const auto address = canonical_address(std::string(f[0]));
        if (!address)
            return fail(ErrorKind::Config, where + "'" + std::string(f[0]) +
                                               "' is not an IPv4 or IPv6 address (a NAS is named by the address "
                                               "RADIUS sees in NAS-IP-Address, no host names)");
        if (!out.by_address_.emplace(*address, std::move(entry)).second)
            return fail(ErrorKind::Config, where + *address + " is listed twice");
    }
    return out;
}

Result<NasSecrets> NasSecrets::load(const std::filesystem::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0)
        return fail(ErrorKind::Config, file.string() + ": " + std::strerror(errno) +
                                           " ([coa] secrets_file: lines 'NAS-ADDRESS SECRET [PORT]', mode 0600)");
    if ((st.st_mode & 077U) != 0) {
        char octal[8];
        std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(st.st_mode & 07777U));
        return fail(ErrorKind::Config, file.string() + " holds RADIUS shared secrets but its mode " + octal +
                                           " lets group or others access it; refused. Fix: chmod 600 " + file.string());
    }
    auto text = read_text_file(file, 1024 * 1024);
    if (!text) return fail(ErrorKind::Config, text.message());
    return parse(*text, file.string());
}

const NasSecret* NasSecrets::find(const std::string& nas) const {
    if (const auto address = canonical_address(nas)) {
        if (const auto it = by_address_.find(*address); it != by_address_.end()) return &it->second;
    }
    return fallback_ ? &*fallback_ : nullptr;
}

}  // namespace lscgate
