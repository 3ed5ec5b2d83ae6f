#pragma once

#include "core/result.h"

#include <string>
#include <string_view>

namespace lscgate {

// Device names go into certificate subjects, SANs, log lines and SQL; only the
// characters CUCM allows (letters, digits, '.', '_', '-'), 1 to 64 of them.
// SEP/ATA/CSF-style names are returned with "SEP"+MAC in upper case, as CUCM shows them.
Result<std::string> normalize_device_name(std::string_view name);

// SEP + 12 hex digits → the next MAC (SEP00000000000A → SEP00000000000B); used by bulk tools.
Result<std::string> next_sep_name(std::string_view name, unsigned long long step = 1);

}  // namespace lscgate
