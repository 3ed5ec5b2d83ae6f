#include "registry/postgresql/pq_conninfo.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace lscgate {
namespace {

struct ConninfoOptionsDeleter {
    void operator()(PQconninfoOption* options) const noexcept { PQconninfoFree(options); }
};

void add(std::vector<std::string>& out, std::string value) {
    if (value.empty()) return;
    if (std::find(out.begin(), out.end(), value) == out.end()) out.push_back(std::move(value));
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            const int hi = hex_digit(s[i + 1]);
            const int lo = hex_digit(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(s[i]);
    }
    return out;
}

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// A keyword/value value starting at `pos`: 'single quoted' or up to whitespace, backslash
// escapes in both (libpq fe-connect.c conninfo_parse).
// Both forms are secrets: `unescaped` is what libpq sends, `raw` is the text as written
// (`'it\'s'` → raw `it\'s`), which is what shows wherever the conninfo itself is echoed.
struct KeywordValue {
    std::string unescaped;
    std::string raw;
};

KeywordValue value_at(std::string_view s, std::size_t pos) {
    KeywordValue out;
    if (pos < s.size() && s[pos] == '\'') {
        const std::size_t start = pos + 1;
        for (++pos; pos < s.size() && s[pos] != '\''; ++pos) {
            if (s[pos] == '\\' && pos + 1 < s.size()) ++pos;
            out.unescaped.push_back(s[pos]);
        }
        out.raw = std::string(s.substr(start, std::min(pos, s.size()) - start));
        return out;
    }
    // libpq also honours backslash escapes in an unquoted value (`a\\ b` is "a b").
    const std::size_t start = pos;
    for (; pos < s.size() && !is_space(s[pos]); ++pos) {
        if (s[pos] == '\\' && pos + 1 < s.size()) ++pos;
        out.unescaped.push_back(s[pos]);
    }
    out.raw = std::string(s.substr(start, std::min(pos, s.size()) - start));
    return out;
}

// Every "password" word in the text: the value after '=' (with or without blanks
// around it), or the next word when the '=' is missing (`password s3cret`).
void scan_keyword_values(std::string_view s, std::vector<std::string>& out) {
    constexpr std::string_view kWord = "password";
    for (std::size_t at = s.find(kWord); at != std::string_view::npos; at = s.find(kWord, at + 1)) {
        std::size_t pos = at + kWord.size();
        while (pos < s.size() && is_space(s[pos])) ++pos;
        if (pos < s.size() && s[pos] == '=') {
            ++pos;
            while (pos < s.size() && is_space(s[pos])) ++pos;
        }
        const KeywordValue value = value_at(s, pos);
        for (const std::string& form : {value.unescaped, value.raw}) {
            // In a URI query the value ends at the next parameter.
            add(out, percent_decode(form.substr(0, form.find('&'))));
            add(out, form.substr(0, form.find('&')));
            add(out, form);
        }
    }
}

// postgresql://user:secret@host/db: the part between the first ':' of the
// userinfo and the last '@' before the path.
void scan_uri_userinfo(std::string_view s, std::vector<std::string>& out) {
    const std::size_t scheme = s.find("://");
    if (scheme == std::string_view::npos) return;
    std::string_view rest = s.substr(scheme + 3);
    const std::size_t end = rest.find_first_of("/?");
    const std::string_view authority = rest.substr(0, end);
    const std::size_t at = authority.rfind('@');
    if (at == std::string_view::npos) return;
    const std::string_view userinfo = authority.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) return;
    const std::string_view secret = userinfo.substr(colon + 1);
    add(out, std::string(secret));
    add(out, percent_decode(secret));
}

}  // namespace

std::vector<std::string> conninfo_secrets(std::string_view conninfo) {
    std::vector<std::string> out;
    const std::string text(conninfo);
    char* error = nullptr;
    std::unique_ptr<PQconninfoOption, ConninfoOptionsDeleter> options(PQconninfoParse(text.c_str(), &error));
    PQfreemem(error);
    if (options) {
        for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o)
            if (o->val != nullptr && std::string_view(o->keyword) == "password") add(out, o->val);
    }
    scan_keyword_values(conninfo, out);
    scan_uri_userinfo(conninfo, out);
    // Longest first: a secret containing a shorter one is replaced whole.
    std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    return out;
}

std::string redact_conninfo_secrets(std::string message, std::string_view conninfo) {
    for (const std::string& secret : conninfo_secrets(conninfo)) {
        for (std::size_t at = message.find(secret); at != std::string::npos; at = message.find(secret, at + 3))
            message.replace(at, secret.size(), "***");
    }
    return message;
}

std::string conninfo_parse_error_text(std::string_view libpq_message, std::string_view conninfo) {
    std::vector<std::string> keywords;
    if (PQconninfoOption* defaults = PQconndefaults(); defaults != nullptr) {
        for (const PQconninfoOption* o = defaults; o->keyword != nullptr; ++o) keywords.emplace_back(o->keyword);
        PQconninfoFree(defaults);
    }
    const std::string text = redact_conninfo_secrets(trim_pq_message(libpq_message), conninfo);
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t open = text.find('"', pos);
        const std::size_t close = open == std::string::npos ? std::string::npos : text.find('"', open + 1);
        if (close == std::string::npos) {
            out += text.substr(pos);
            break;
        }
        const std::string fragment = text.substr(open + 1, close - open - 1);
        const bool safe = fragment == "=" || std::find(keywords.begin(), keywords.end(), fragment) != keywords.end();
        out += text.substr(pos, open - pos) + "\"" + (safe ? fragment : "...") + "\"";
        pos = close + 1;
    }
    return out;
}

std::string trim_pq_message(std::string_view message) {
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r' || message.back() == ' '))
        message.remove_suffix(1);
    return std::string(message);
}

}  // namespace lscgate
