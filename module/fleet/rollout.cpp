#include "fleet/rollout.h"

#include "pki/printable.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <unordered_set>

namespace lscgate {
namespace {

// After each chunk the writer lock is left free for as long as the chunk held
// it, up to SQLite's longest busy retry (100 ms), so that `lscgate serve`
// recording an LSC gets in between chunks (as Store's bulk writes do).
constexpr std::chrono::milliseconds kLongestBusyRetry{100};

bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

// The devices of `wave` that no run has handled yet (neither an operation nor a
// skip recorded), in input order; `handled` counts the others.
Result<std::vector<std::string>> unhandled_members(Store& store, std::int64_t rollout_id, int wave, int& handled) {
    std::vector<std::string> out;
    auto walked = store.each_rollout_member(rollout_id, wave, [&](const RolloutMember& m) -> Status {
        if (m.operation_id || !m.skipped.empty()) ++handled;
        else out.push_back(m.device);
        return {};
    });
    if (!walked) return walked.error();
    return out;
}

// One chunk in one transaction: each device's operation (or skip) and its
// rollout row together, so an interrupted run leaves every device either
// handled completely or not at all. Outcomes are appended once committed.
Status schedule_chunk(Store& store, std::int64_t rollout_id, const std::vector<std::string>& devices,
                      const std::vector<OperationRequest>& requests, const WaveOptions& options,
                      const std::string& actor, UnixTime now, std::vector<WaveMemberOutcome>& out) {
    auto tx = store.transaction();
    if (!tx) return tx.error();
    std::vector<WaveMemberOutcome> chunk;
    chunk.reserve(devices.size());
    for (std::size_t i = 0; i < devices.size(); ++i) {
        auto why = rollout_skip_reason(store, devices[i], options.replace, now);
        if (!why) return why.error();
        WaveMemberOutcome m{devices[i], std::nullopt, *why};
        if (why->empty()) {
            auto op = store.schedule_operation(devices[i], requests[i], actor);
            if (!op) return op.error();
            m.operation = std::move(*op);
        }
        const auto op_id = m.operation ? std::optional<std::int64_t>(m.operation->id) : std::nullopt;
        if (auto s = store.set_rollout_member(rollout_id, devices[i], op_id, m.skipped); !s) return s.error();
        chunk.push_back(std::move(m));
    }
    if (auto s = tx->commit(); !s) return s.error();
    for (auto& m : chunk) out.push_back(std::move(m));
    return {};
}

// Every device of `devices` in chunks of options.chunk; each chunk's requests
// are made (strings generated and hashed) before its transaction begins.
std::optional<Error> schedule_members(Store& store, std::int64_t rollout_id, const std::vector<std::string>& devices,
                                      const OperationRequest& wave_request, const MemberRequestFn& request,
                                      const WaveOptions& options, const std::string& actor, UnixTime now,
                                      std::vector<WaveMemberOutcome>& out) {
    const std::size_t chunk = std::max<std::size_t>(1, options.chunk);
    for (std::size_t start = 0; start < devices.size(); start += chunk) {
        const std::size_t end = std::min(devices.size(), start + chunk);
        const std::vector<std::string> names(devices.begin() + static_cast<std::ptrdiff_t>(start),
                                             devices.begin() + static_cast<std::ptrdiff_t>(end));
        std::vector<OperationRequest> requests;
        requests.reserve(names.size());
        for (const auto& name : names) {
            if (!request) {
                requests.push_back(wave_request);
                continue;
            }
            auto r = request(name, wave_request);
            if (!r) return r.error();
            requests.push_back(std::move(*r));
        }
        const auto began = std::chrono::steady_clock::now();
        if (auto s = schedule_chunk(store, rollout_id, names, requests, options, actor, now, out); !s) return s.error();
        if (end < devices.size()) {
            const auto held = std::chrono::steady_clock::now() - began;
            std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(held, kLongestBusyRetry));
        }
    }
    return std::nullopt;
}

}  // namespace

Result<std::string> rollout_skip_reason(Store& store, const std::string& device, bool replace, UnixTime now) {
    auto dev = store.find_device(device);
    if (!dev) return dev.error();
    if (!dev->has_value()) return std::string("no longer registered");
    if (replace) return std::string();
    auto op = store.open_operation((*dev)->id);
    if (!op) return op.error();
    // One past its completes-by is timed out (effective_state): nothing left to
    // protect, and scheduling replaces it.
    if (!op->has_value() || is_finished(effective_state(**op, now))) return std::string();
    return "had an open " + std::string(to_string((*op)->request.kind)) + " operation " + std::to_string((*op)->id);
}

Status validate_rollout_name(std::string_view name) {
    const auto bad = [&](const std::string& why) {
        return fail(ErrorKind::Input, "invalid rollout name '" + escape_nonprintable(name) + "': " + why);
    };
    if (name.empty()) return fail(ErrorKind::Input, "a rollout needs a name");
    if (name.size() > 64) return bad("at most 64 characters");
    if (!std::all_of(name.begin(), name.end(), name_char) || name.front() == '.' || name.front() == '_' ||
        name.front() == '-')
        return bad("use letters, digits, '.', '_' and '-', starting with a letter or digit");
    return {};
}

Status validate_rollout_plan(const RolloutPlan& plan) {
    if (auto s = validate_rollout_name(plan.name); !s) return s;
    if (plan.wave_size < 1 || plan.wave_size > kMaxWaveSize)
        return fail(ErrorKind::Input, "--wave-size must be 1 to " + std::to_string(kMaxWaveSize));
    if (plan.by_seconds && *plan.by_seconds <= 0)
        return fail(ErrorKind::Input, "a wave's completes-by must be after its scheduling");
    const bool string_mode = plan.request.auth_mode == AuthMode::String;
    if (plan.generate_strings && !string_mode)
        return fail(ErrorKind::Input, "generated authentication strings need auth mode string");
    if (string_mode && !plan.generate_strings && plan.request.auth_secret_hash.empty())
        return fail(ErrorKind::Input, "auth mode string needs a fixed string or generated ones");
    return {};
}

int wave_count(std::size_t devices, int wave_size) {
    const auto size = static_cast<std::size_t>(std::max(1, wave_size));
    return static_cast<int>((devices + size - 1) / size);
}

int wave_of(std::size_t position, int wave_size) {
    return static_cast<int>(position / static_cast<std::size_t>(std::max(1, wave_size))) + 1;
}

Result<Rollout> create_rollout(Store& store, const RolloutPlan& plan, const std::vector<std::string>& devices,
                               const std::string& actor, UnixTime now) {
    if (auto s = validate_rollout_plan(plan); !s) return s.error();
    if (devices.empty()) return fail(ErrorKind::Input, "rollout " + plan.name + ": no devices");
    std::unordered_set<std::string> seen;
    for (const auto& d : devices)
        if (!seen.insert(d).second) return fail(ErrorKind::Input, "device " + d + " is listed twice");
    Rollout row;
    row.name = plan.name;
    row.request = plan.request;
    row.request.completes_by.reset();  // each wave gets its own (by_seconds)
    row.generate_strings = plan.generate_strings;
    row.by_seconds = plan.by_seconds;
    row.wave_size = plan.wave_size;
    row.created_at = now;
    row.created_by = actor;
    return store.create_rollout(row, devices, actor);
}

Result<WaveRun> schedule_next_wave(Store& store, const std::string& name, const MemberRequestFn& request,
                                   const WaveOptions& options, const std::string& actor, UnixTime now) {
    auto found = store.find_rollout(name);
    if (!found) return found.error();
    if (!found->has_value())
        return fail(ErrorKind::Input, "no rollout named '" + escape_nonprintable(name) + "' (see 'lscgate rollout list')");
    WaveRun run;
    run.rollout = std::move(**found);
    const Rollout& r = run.rollout;
    if (r.next_wave > r.waves)
        return fail(ErrorKind::Input, "rollout " + r.name + ": all " + std::to_string(r.waves) + " waves are scheduled");
    if (r.generate_strings && !request)
        return fail(ErrorKind::Config, "rollout " + r.name + " generates an authentication string per device: "
                                       "nothing to make them with");
    run.wave = r.next_wave;
    OperationRequest wave_request = r.request;
    wave_request.completes_by = r.by_seconds ? std::optional<UnixTime>(now + *r.by_seconds) : std::nullopt;
    run.completes_by = wave_request.completes_by;
    auto todo = unhandled_members(store, r.id, run.wave, run.already_handled);
    if (!todo) return todo.error();
    run.error = schedule_members(store, r.id, *todo, wave_request, request, options, actor, now, run.outcomes);
    if (run.error) return run;
    if (auto s = store.mark_rollout_wave_scheduled(r.id, run.wave, now, run.completes_by, actor); !s) {
        run.error = s.error();
        return run;
    }
    run.completed = true;
    run.rollout.next_wave = run.wave + 1;
    return run;
}

Result<std::vector<Rollout>> list_rollouts(Store& store) {
    std::vector<Rollout> out;
    auto walked = store.each_rollout([&](const Rollout& r) -> Status {
        out.push_back(r);
        return {};
    });
    if (!walked) return walked.error();
    return out;
}

}  // namespace lscgate
