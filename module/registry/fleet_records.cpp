// The engine-independent rules of the fleet rows (registry/fleet_records.h).

#include "registry/fleet_records.h"

#include "pki/printable.h"

#include <unordered_set>

namespace lscgate {

int rollout_wave_count(std::size_t devices, int wave_size) {
    if (wave_size <= 0 || devices == 0) return 0;
    const auto size = static_cast<std::size_t>(wave_size);
    return static_cast<int>((devices + size - 1) / size);
}

Status check_rollout_plan(const Rollout& plan, const std::vector<std::string>& devices) {
    if (plan.name.empty()) return fail(ErrorKind::Input, "a rollout needs a name");
    // The schema's CHECK refuses `none` too; said here in words, before any write.
    if (plan.request.kind == OperationKind::None)
        return fail(ErrorKind::Input, "a rollout schedules install, delete or fetch operations, not none");
    if (plan.wave_size <= 0)
        return fail(ErrorKind::Input, "wave size " + std::to_string(plan.wave_size) + ": must be at least 1");
    if (devices.empty()) return fail(ErrorKind::Input, "rollout " + escape_nonprintable(plan.name) + " has no devices");
    std::unordered_set<std::string_view> seen;
    seen.reserve(devices.size());
    for (std::size_t i = 0; i < devices.size(); ++i) {
        if (!seen.insert(devices[i]).second)
            return fail(ErrorKind::Input, "device " + escape_nonprintable(devices[i]) + " is listed twice (item " +
                                              std::to_string(i + 1) + ")");
    }
    return {};
}

std::string rollout_member_handled(const std::string& device, std::int64_t rollout_id) {
    return "device " + device + " of rollout " + std::to_string(rollout_id) +
           " was handled meanwhile by another run of the same wave (two 'rollout next' at once?): this run stopped "
           "and its last chunk was undone; 'lscgate rollout status' shows what the other run scheduled";
}

std::string rollout_audit_detail(const Rollout& created) {
    std::string detail = "name=" + created.name + " devices=" + std::to_string(created.devices) +
                         " waves=" + std::to_string(created.waves) + " wave_size=" + std::to_string(created.wave_size) +
                         " kind=" + std::string(to_string(created.request.kind)) +
                         " auth=" + std::string(to_string(created.request.auth_mode)) + " key=" + created.request.key.to_string();
    if (created.generate_strings) detail += " strings=generated";
    if (created.by_seconds) detail += " by=+" + std::to_string(*created.by_seconds) + "s";
    return detail;
}

}  // namespace lscgate
