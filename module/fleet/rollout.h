#pragma once

// Rollouts in waves (issue 10 item 3). Phones come to CAPF when the call
// manager or provisioning system applies their configuration, so an
// administrator enrols a fleet in waves: `lscgate rollout create` splits a
// selection (already resolved into device names, in input order) into numbered
// waves of wave_size and schedules the first; `lscgate rollout next` schedules
// the next one. Each wave's operations complete by that wave's scheduling time
// plus the rollout's by_seconds.
//
// A wave never replaces an operation that is still open for a device (pending
// or in progress, not past its completes-by) unless asked to (`--replace`):
// that device is skipped, and the reason kept. A device removed from the
// registry since the rollout was created is skipped as well.
//
// Scheduling a wave is resumable: each device's operation and its rollout row
// are written in the same transaction (chunks of kBulkChunkRows), and the wave
// is marked scheduled only at the end, so after a crash `rollout next` goes on
// with the same wave and leaves alone the devices already handled.
// Engine-neutral: everything goes through Store. The time is a parameter.

#include "pki/result.h"
#include "registry/fleet_records.h"
#include "registry/store.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lscgate {

/// The default number of devices per wave (`--wave-size`).
inline constexpr int kDefaultWaveSize = 500;
/// The largest wave `rollout create` accepts.
inline constexpr int kMaxWaveSize = 100000;

/// What `rollout create` asks for (the devices come separately).
struct RolloutPlan {
    std::string name;
    /// Kind, auth mode and key of every wave's operations; auth_secret_hash holds
    /// the hash of a fixed authentication string. completes_by is ignored (see by_seconds).
    OperationRequest request;
    bool generate_strings = false;           ///< a fresh authentication string per device, made at each wave
    std::optional<std::int64_t> by_seconds;  ///< each wave completes by its scheduling time + this (> 0)
    int wave_size = kDefaultWaveSize;
};

/// Refuses (kind Input) a rollout name that is empty, longer than 64 bytes, or
/// holds anything but letters, digits, '.', '_' and '-' (first: a letter or digit),
/// so that a name is one shell word and one column in every listing.
Status validate_rollout_name(std::string_view name);

/// Refuses (kind Input) a plan that cannot be created: bad name, wave_size
/// outside 1..kMaxWaveSize, by_seconds not positive, generate_strings without
/// auth mode string, a fixed string mode without its hash.
Status validate_rollout_plan(const RolloutPlan& plan);

/// How many waves `devices` devices make in waves of `wave_size` (> 0).
int wave_count(std::size_t devices, int wave_size);
/// The wave (1-based) of the device at `position` (0-based, input order).
int wave_of(std::size_t position, int wave_size);

/// Makes the request of one device of a wave from the wave's request (which
/// already carries the wave's completes_by): `--auth string` generates and
/// hashes a fresh string here, and remembers it to show it once. Called before
/// the device's chunk is written (hashing is slow: never with the writer lock
/// held); a device later found skipped gets no operation, and its request is dropped.
using MemberRequestFn = std::function<Result<OperationRequest>(const std::string& device, const OperationRequest& wave)>;

/// What scheduling a wave did for one device in this run.
struct WaveMemberOutcome {
    std::string device;
    std::optional<Operation> operation;  ///< the operation scheduled, or none when skipped
    std::string skipped;                 ///< why it was skipped ("" when scheduled)
};

/// What one `rollout create` / `rollout next` run scheduled.
struct WaveRun {
    Rollout rollout;  ///< as stored after the run (next_wave moved past the wave when it completed)
    int wave = 0;     ///< the wave this run worked on
    std::optional<UnixTime> completes_by;  ///< the deadline given to this run's operations
    std::vector<WaveMemberOutcome> outcomes;  ///< the devices handled in this run, in input order
    int already_handled = 0;  ///< devices of the wave an earlier, interrupted run had handled
    bool completed = false;   ///< the wave is marked scheduled (false: an error stopped it half-way)
    std::optional<Error> error;  ///< what stopped it; outcomes holds what was committed before
};

/// Options of one wave run.
struct WaveOptions {
    bool replace = false;  ///< reschedule a device whose operation is still open (it is cancelled, "replaced")
    std::size_t chunk = kBulkChunkRows;  ///< devices per transaction
};

/// Creates rollout `plan` over `devices` (normalized, registered, each once, in
/// input order: a DeviceBatch's names) created by `actor` at `now`. Nothing is
/// scheduled (see schedule_next_wave). Errors: an invalid plan or an empty
/// device list (kind Input), a name already used (kind Config), the registry's.
Result<Rollout> create_rollout(Store& store, const RolloutPlan& plan, const std::vector<std::string>& devices,
                               const std::string& actor, UnixTime now);

/// Schedules the rollout's next wave at `now` (its operations complete by now +
/// by_seconds), or goes on with it when an earlier run was interrupted. For each
/// device of the wave not yet handled: gone from the registry → skipped "no
/// longer registered"; an open operation (effective_state at `now` pending or in
/// progress) → skipped "had an open KIND operation ID" unless options.replace;
/// otherwise its operation is scheduled and recorded in the rollout, in the same
/// transaction. `request` makes each device's request (may be empty when the
/// rollout has one fixed request). The wave is marked scheduled (by `actor`)
/// once every device is handled.
/// Errors as a Result, before anything is written: no such rollout, every wave
/// already scheduled (kind Input), a rollout that generates strings without
/// `request` (kind Config), the registry's. Errors after writing began are in
/// WaveRun::error, with the outcomes committed before it.
Result<WaveRun> schedule_next_wave(Store& store, const std::string& name, const MemberRequestFn& request,
                                   const WaveOptions& options, const std::string& actor, UnixTime now);

/// Why a wave would not schedule `device` at `now`, or "" when it would: "no
/// longer registered"; "had an open KIND operation ID" (pending or in progress
/// and not past its completes-by: effective_state) unless `replace`.
/// Errors: the registry's.
Result<std::string> rollout_skip_reason(Store& store, const std::string& device, bool replace, UnixTime now);

/// Every rollout, by creation. Errors: the registry's.
Result<std::vector<Rollout>> list_rollouts(Store& store);

}  // namespace lscgate
