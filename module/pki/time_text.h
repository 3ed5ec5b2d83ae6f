#pragma once

#include "pki/certificate.h"
#include "pki/result.h"

#include <string_view>

namespace lscgate {

// Deadlines as administrators type them: "+90s", "+30m", "+12h", "+7d", or an
// absolute "2026-12-01T17:00" / "2026-12-01 17:00:00" (local time) or with a
// trailing "Z" (UTC).
Result<UnixTime> parse_time_text(std::string_view text, UnixTime now);

}  // namespace lscgate
