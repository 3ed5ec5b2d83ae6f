#include "pki/printable.h"

namespace lscgate {
namespace {

void append_escaped(std::string& out, std::string_view text, bool escape_quote) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\\' || (escape_quote && c == '"')) {
            out.push_back('\\');
            out.push_back(ch);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c > 0x7E) {
            out += "\\x";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0x0F]);
        } else {
            out.push_back(ch);
        }
    }
}

}  // namespace

std::string escape_nonprintable(std::string_view text) {
    // Device names and reasons rarely need escaping: the clean prefix is copied whole
    // (this runs on every RADIUS request), the rest character by character.
    std::size_t clean = 0;
    while (clean < text.size()) {
        const auto c = static_cast<unsigned char>(text[clean]);
        if (c == '\\' || c < 0x20 || c > 0x7E) break;
        ++clean;
    }
    std::string out(text.substr(0, clean));
    if (clean < text.size()) {
        out.reserve(text.size() + 8);
        append_escaped(out, text.substr(clean), false);
    }
    return out;
}

std::string quote_for_log(std::string_view text) {
    std::string out = "\"";
    out.reserve(text.size() + 2);
    append_escaped(out, text, true);
    out.push_back('"');
    return out;
}

}  // namespace lscgate
