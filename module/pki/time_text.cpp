#include "pki/time_text.h"

#include "pki/printable.h"

#include <charconv>
#include <ctime>
#include <string>

namespace lscgate {

Result<UnixTime> parse_time_text(std::string_view text, UnixTime now) {
    const auto bad = [&] {
        return fail(ErrorKind::Input, "invalid time '" + escape_nonprintable(text) +
                    "': use +90s, +30m, +12h, +7d, 2026-12-01T17:00 (local) or 2026-12-01T17:00Z (UTC)");
    };
    if (text.empty()) return bad();
    if (text.front() == '+') {
        if (text.size() < 3) return bad();
        long long n = 0;
        const auto* b = text.data() + 1;
        const auto* e = text.data() + text.size() - 1;
        const auto [p, ec] = std::from_chars(b, e, n);
        if (ec != std::errc{} || p != e || n < 0 || n > 3650LL * 86400) return bad();
        switch (text.back()) {
            case 's': return now + n;
            case 'm': return now + n * 60;
            case 'h': return now + n * 3600;
            case 'd': return now + n * 86400;
            default: return bad();
        }
    }
    std::string s(text);
    const bool utc = s.back() == 'Z' || s.back() == 'z';
    if (utc) s.pop_back();
    for (auto& c : s)
        if (c == ' ') c = 'T';
    struct tm tm {};
    const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == nullptr || *end != '\0') {
        tm = {};
        end = strptime(s.c_str(), "%Y-%m-%dT%H:%M", &tm);
        if (end == nullptr || *end != '\0') return bad();
    }
    if (utc) return static_cast<UnixTime>(timegm(&tm));
    tm.tm_isdst = -1;
    const auto t = mktime(&tm);
    if (t == static_cast<time_t>(-1)) return bad();
    return static_cast<UnixTime>(t);
}

}  // namespace lscgate
