#pragma once

// A rollout's plan from the words an administrator gives it: `lscgate rollout
// create NAME --operation --auth --key --by --wave-size` and the web's bulk page
// ("apply in waves") make their plan here, so both accept and refuse the same
// things; and the authentication strings a wave generates, kept to be shown once.

#include "fleet/rollout.h"
#include "pki/result.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lscgate {

/// What `rollout create` is given, as typed.
struct RolloutWords {
    std::string name;
    std::string operation = "install";  ///< install | fetch | delete
    std::string auth = "null";          ///< as parse_request_options takes it
    std::string key = "rsa:2048";
    std::string by;                     ///< a duration after each wave's scheduling: "+7d"; "" = none
    bool allow_weak_key = false;
    int wave_size = kDefaultWaveSize;
};

/// A rollout's deadline: a duration after each wave is scheduled ("+30m",
/// "+12h", "+7d"), in seconds; "" is none. An absolute time would be one
/// deadline for waves scheduled days apart: refused (kind Input), as is zero.
Result<std::optional<std::int64_t>> parse_wave_deadline(const std::string& by);

/// The plan `words` describe, checked (validate_rollout_plan); a fixed
/// "string:DIGITS" is hashed here, once. What the caller must show (a weak key
/// allowed) is appended to `warnings`. Errors (kind Input) carry the message.
Result<RolloutPlan> rollout_plan_from(const RolloutWords& words, std::vector<std::string>& warnings);

/// Authentication strings generated per device as its wave is scheduled
/// (a rollout with bare `--auth string`), kept so the caller shows each once.
class GeneratedStrings {
public:
    /// The MemberRequestFn for schedule_next_wave: a wave request of mode string
    /// without a hash gets a fresh string (hashed, remembered) — one prepared
    /// for the device when there is one; any other request is used as is.
    /// The object must outlive the wave run.
    MemberRequestFn fn();
    /// Generates and hashes a string for each of `devices` now (PBKDF2, some
    /// milliseconds each), so that the wave run, which holds the registry,
    /// spends no time on it. Errors: hashing failed (Internal).
    Status prepare(const std::vector<std::string>& devices);
    /// The string generated for `device` in this run, or "".
    std::string of(const std::string& device) const;

private:
    struct Prepared {
        std::string digits;
        std::string hash;
    };
    std::map<std::string, Prepared> prepared_;
    std::map<std::string, std::string> digits_;
};

}  // namespace lscgate
