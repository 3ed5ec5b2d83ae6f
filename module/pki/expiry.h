#pragma once

// Expiry thresholds as monitoring and administrators state them ("warn 30 days
// before, critical 7 days before"), and the CAPF server's daily reminder. Every
// function takes the time as a parameter, so tests choose it.

#include "pki/certificate.h"
#include "pki/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lscgate {

/// A span typed by an administrator: digits then one unit, s m h d w
/// ("90s", "30m", "12h", "30d", "2w"); a bare number is days. Returns seconds.
/// Errors (kind Input): empty, no digits, an unknown unit, more than 100 years.
Result<std::int64_t> parse_duration_text(std::string_view text);

/// Monitoring-plugin states (Nagios plugin guidelines, "Plugin Return Codes"):
/// the numeric value is the exit code `lscgate check` returns.
enum class ExpiryLevel { Ok = 0, Warning = 1, Critical = 2 };

std::string_view to_string(ExpiryLevel level);  // "OK", "WARNING", "CRITICAL"

/// Critical when `not_after` is less than `crit_seconds` after `now` (an expired
/// certificate is always critical), warning when less than `warn_seconds`, else ok.
ExpiryLevel expiry_level(UnixTime not_after, UnixTime now, std::int64_t warn_seconds, std::int64_t crit_seconds);

/// Whole days from `now` to `not_after`, rounded down (negative once expired).
std::int64_t days_left(UnixTime not_after, UnixTime now);

/// "expires in 12 days (2026-12-01T00:00:00Z)" / "expired 3 days ago (…)".
std::string expiry_phrase(UnixTime not_after, UnixTime now);

/// The CAPF server's reminder (issue 10 item 6): a warning when the CAPF
/// certificate is within `threshold_seconds` of its notAfter, at the first call
/// and then at most once per `interval_seconds`. Phones reject a CAPF server whose
/// certificate has expired (its ITL/CTL entry then no longer verifies), so the
/// rotation must start well before.
class ExpiryReminder {
public:
    explicit ExpiryReminder(std::int64_t threshold_seconds = 60 * 86400, std::int64_t interval_seconds = 86400)
        : threshold_(threshold_seconds), interval_(interval_seconds) {}
    /// The warning text if one is due at `now`, else nullopt. A call that finds the
    /// certificate far from expiry also waits `interval_seconds` before looking again.
    std::optional<std::string> due(const CertificateFacts& capf, UnixTime now);

private:
    std::int64_t threshold_;
    std::int64_t interval_;
    std::optional<UnixTime> next_;
};

}  // namespace lscgate
