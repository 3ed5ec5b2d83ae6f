#include "web/pages.h"

#include <ctime>

namespace lscgate::web {

std::string display_time(UnixTime t) {
    if (t == 0) return "";
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
    return buf;
}

std::string url_encode(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0x0f]);
        }
    }
    return out;
}

TemplateList choices(std::initializer_list<const char*> values, std::string_view chosen) {
    TemplateList out;
    for (const char* v : values) out.push_back(TemplateObject{{"value", std::string(v)}, {"selected", chosen == v}});
    return out;
}

TemplateList auth_mode_choices(std::string_view chosen) {
    return choices({"null", "string", "lsc", "mic", "lsc-or-mic", "mic-or-lsc"}, chosen);
}

TemplateList key_choices(std::string_view chosen) {
    return choices({"rsa:2048", "rsa:3072", "rsa:4096", "ec:p256", "ec:p384", "ec:p521", "rsa:1024"}, chosen);
}

PageBody result_page(const std::string& title, const std::vector<std::string>& lines, const std::string& back_href,
                     const std::string& back_label) {
    TemplateList items;
    for (const auto& line : lines) items.push_back(TemplateObject{{"line", line}});
    TemplateData data;
    data.set("lines", items);
    data.set("back_href", back_href);
    data.set("back_label", back_label);
    return PageBody{title, "result", data, 200};
}

}  // namespace lscgate::web
