#include "fleet/rollout_plan.h"

#include "fleet/operation_request.h"
#include "pki/auth_secret.h"
#include "pki/printable.h"
#include "pki/time_text.h"

namespace lscgate {

Result<std::optional<std::int64_t>> parse_wave_deadline(const std::string& by) {
    if (by.empty()) return std::optional<std::int64_t>{};
    if (by.front() != '+')
        return fail(ErrorKind::Input, "--by " + escape_nonprintable(by) +
                                          ": a rollout's deadline is a duration after each wave is scheduled (+30m, "
                                          "+12h, +7d), not a date: waves are scheduled days apart");
    auto seconds = parse_time_text(by, 0);
    if (!seconds) return seconds.error();
    if (*seconds <= 0) return fail(ErrorKind::Input, "--by " + escape_nonprintable(by) + ": give a duration above zero");
    return std::optional<std::int64_t>(*seconds);
}

Result<RolloutPlan> rollout_plan_from(const RolloutWords& words, std::vector<std::string>& warnings) {
    if (auto s = validate_rollout_name(words.name); !s) return s.error();
    auto kind = parse_operation_kind(words.operation);
    if (!kind) return kind.error();
    if (*kind == OperationKind::None) return fail(ErrorKind::Input, "a rollout's operation is install, fetch or delete");
    auto parsed = parse_request_options(*kind, words.auth, words.key, words.allow_weak_key);
    if (!parsed) return parsed.error();
    auto by = parse_wave_deadline(words.by);
    if (!by) return by.error();
    RolloutPlan plan;
    plan.name = words.name;
    plan.request = parsed->request;
    plan.generate_strings = parsed->generate;
    plan.by_seconds = *by;
    plan.wave_size = words.wave_size;
    if (plan.request.auth_mode == AuthMode::String && !plan.generate_strings) {
        auto hash = hash_auth_string(parsed->fixed_digits);
        if (!hash) return hash.error();
        plan.request.auth_secret_hash = *hash;
    }
    if (auto s = validate_rollout_plan(plan); !s) return s.error();
    warnings.insert(warnings.end(), parsed->warnings.begin(), parsed->warnings.end());
    return plan;
}

MemberRequestFn GeneratedStrings::fn() {
    return [this](const std::string& device, const OperationRequest& wave) -> Result<OperationRequest> {
        if (wave.auth_mode != AuthMode::String || !wave.auth_secret_hash.empty()) return wave;
        OperationRequest r = wave;
        if (auto it = prepared_.find(device); it != prepared_.end()) {
            r.auth_secret_hash = it->second.hash;
            digits_[device] = it->second.digits;
            return r;
        }
        std::string d = random_auth_digits(kGeneratedAuthDigits);
        auto hash = hash_auth_string(d);
        if (!hash) return hash.error();
        r.auth_secret_hash = *hash;
        digits_[device] = std::move(d);
        return r;
    };
}

Status GeneratedStrings::prepare(const std::vector<std::string>& devices) {
    for (const auto& device : devices) {
        std::string d = random_auth_digits(kGeneratedAuthDigits);
        auto hash = hash_auth_string(d);
        if (!hash) return hash.error();
        prepared_[device] = Prepared{std::move(d), std::move(*hash)};
    }
    return {};
}

std::string GeneratedStrings::of(const std::string& device) const {
    auto it = digits_.find(device);
    return it == digits_.end() ? std::string() : it->second;
}

}  // namespace lscgate
