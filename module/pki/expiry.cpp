#include "pki/expiry.h"

#include "pki/printable.h"

#include <charconv>
#include <limits>

namespace lscgate {

Result<std::int64_t> parse_duration_text(std::string_view text) {
    const std::string shown = "'" + escape_nonprintable(text) + "'";
    if (text.empty()) return fail(ErrorKind::Input, "empty duration: use e.g. 30d, 12h, 2w");
    std::int64_t unit = 86400;
    std::string_view digits = text;
    switch (text.back()) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        case 'w': unit = 7 * 86400; break;
        default:
            if (text.back() < '0' || text.back() > '9')
                return fail(ErrorKind::Input, "invalid duration " + shown + ": use a number and s, m, h, d or w (30d)");
    }
    if (text.back() < '0' || text.back() > '9') digits.remove_suffix(1);
    std::int64_t n = 0;
    const auto* end = digits.data() + digits.size();
    auto [ptr, ec] = std::from_chars(digits.data(), end, n);
    if (digits.empty() || ec != std::errc() || ptr != end || n < 0)
        return fail(ErrorKind::Input, "invalid duration " + shown + ": use a number and s, m, h, d or w (30d)");
    constexpr std::int64_t kMax = 100LL * 366 * 86400;
    if (n > kMax / unit) return fail(ErrorKind::Input, "duration " + shown + " is longer than 100 years");
    return n * unit;
}

std::string_view to_string(ExpiryLevel level) {
    switch (level) {
        case ExpiryLevel::Ok: return "OK";
        case ExpiryLevel::Warning: return "WARNING";
        case ExpiryLevel::Critical: return "CRITICAL";
    }
    return "UNKNOWN";
}

ExpiryLevel expiry_level(UnixTime not_after, UnixTime now, std::int64_t warn_seconds, std::int64_t crit_seconds) {
    const std::int64_t left = not_after - now;
    if (left <= 0 || left < crit_seconds) return ExpiryLevel::Critical;
    if (left < warn_seconds) return ExpiryLevel::Warning;
    return ExpiryLevel::Ok;
}

std::int64_t days_left(UnixTime not_after, UnixTime now) {
    const std::int64_t left = not_after - now;
    // Rounded down, also below zero: one second past notAfter is "-1 days".
    return left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
}

std::string expiry_phrase(UnixTime not_after, UnixTime now) {
    const std::int64_t d = days_left(not_after, now);
    const std::string when = " (" + format_utc(not_after) + ")";
    if (not_after <= now) return "expired " + std::to_string((now - not_after) / 86400) + " days ago" + when;
    return "expires in " + std::to_string(d) + (d == 1 ? " day" : " days") + when;
}

std::optional<std::string> ExpiryReminder::due(const CertificateFacts& capf, UnixTime now) {
    if (next_ && now < *next_) return std::nullopt;
    next_ = now + interval_;
    if (capf.not_after - now >= threshold_) return std::nullopt;
    return "CAPF certificate " + capf.subject + " " + expiry_phrase(capf.not_after, now) +
           ": phones refuse an expired CAPF; rotate it now (README: Rotating the CAPF certificate) and keep the old one "
           "as previous until every phone has re-keyed";
}

}  // namespace lscgate
