#pragma once

// The fleet rows of the registry (issue 10): each CAPF session's outcome as
// `lscgate serve` recorded it, and rollouts (a selection of devices split into
// numbered waves, each wave scheduled by `lscgate rollout next`).

#include "registry/records.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lscgate {

/// How many CAPF session rows the registry keeps by default ([capf]
/// session_history): the newest rows are kept, older ones are deleted as new
/// ones are written, so the table stays bounded (≈ 200 bytes a row: 100 000
/// rows ≈ 20 MB) whatever the fleet does (a phone retrying every minute).
inline constexpr std::int64_t kDefaultSessionHistory = 100000;

/// One CAPF session's outcome (written once, when the session ends).
struct CapfSessionRecord {
    std::int64_t id = 0;
    UnixTime at = 0;                          ///< when the session ended (Unix seconds, UTC)
    std::string device;                       ///< normalized device name; "" if the phone never named itself
    std::optional<std::int64_t> operation_id; ///< the operation the session worked on, if it got that far
    std::string operation;                    ///< install / fetch / delete / none, "" before lookup
    std::string auth_mode;                    ///< the operation's mode, "" before lookup
    std::string result;                       ///< succeeded / failed / rejected / unknown-device / no-operation / timed-out / closed
    std::string cause_class;                  ///< stable class for grouping (capf/session_cause.h), "" when succeeded
    std::string cause;                        ///< the cause in words (never a secret)
    std::string peer;                         ///< the phone's address:port as the server saw it
    std::string serial;                       ///< the LSC issued (hex), "" if none
    std::int64_t duration_ms = 0;             ///< from TCP accept to the end of the session
};

/// Which sessions each_capf_session walks (all when every field is empty).
struct CapfSessionFilter {
    std::optional<std::string> device;         ///< only this device (normalized name)
    std::optional<std::int64_t> operation_id;  ///< only sessions of this operation
    std::optional<UnixTime> since;             ///< only sessions that ended at or after this time
    int limit = 0;                             ///< at most this many rows (newest first); 0 = no limit
};

/// A rollout: what to schedule, for which devices, in waves of wave_size.
struct Rollout {
    std::int64_t id = 0;
    std::string name;
    /// Kind, auth mode and key of every wave's operations; auth_secret_hash holds
    /// the hash of a fixed authentication string (--auth string:DIGITS).
    /// completes_by is not used here: each wave gets its own (by_seconds).
    OperationRequest request;
    bool generate_strings = false;           ///< --auth string: a fresh string per device, made at each wave
    std::optional<std::int64_t> by_seconds;  ///< each wave completes by its scheduling time + this (seconds)
    int wave_size = 500;
    int waves = 0;                           ///< number of waves (ceil(devices / wave_size))
    int next_wave = 1;                       ///< the wave `rollout next` schedules; waves + 1 when all are
    int devices = 0;                         ///< how many devices the rollout holds
    UnixTime created_at = 0;
    std::string created_by;
};

/// One wave of a rollout.
struct RolloutWave {
    int wave = 0;
    int devices = 0;
    std::optional<UnixTime> scheduled_at;  ///< when `rollout create`/`next` scheduled it; none yet: waiting
    std::optional<UnixTime> completes_by;  ///< that wave's deadline, if the rollout has one
};

/// One device of a rollout, with what became of it: its operation (once its
/// wave was scheduled) and that operation's latest recorded CAPF session.
struct RolloutMember {
    std::string device;
    int wave = 0;
    int position = 0;                          ///< order in the rollout's input (0-based)
    std::optional<std::int64_t> operation_id;  ///< set when its wave was scheduled
    std::string skipped;                       ///< why its wave did not schedule it ("" = it did, or not yet)
    std::optional<OperationState> state;       ///< the operation's state as stored
    std::string last_error;
    std::optional<UnixTime> completes_by;
    std::optional<UnixTime> operation_created_at;
    std::optional<CapfSessionRecord> last_session;  ///< the newest recorded session of that operation
};

/// Audit actions of the fleet writes (registry/store_backend.h).
inline constexpr std::string_view kAuditRolloutCreate = "rollout-create";
inline constexpr std::string_view kAuditRolloutWave = "rollout-wave";
inline constexpr std::string_view kAuditLscAdopt = "lsc-adopt";

/// The number of waves `devices` devices make in waves of `wave_size` (> 0):
/// ceil(devices / wave_size); device i (0-based) is in wave i / wave_size + 1.
int rollout_wave_count(std::size_t devices, int wave_size);

/// What create_rollout checks before it writes anything, on every engine: a
/// non-empty name, kind install/delete/fetch, wave_size > 0, at least one
/// device and none twice. Errors (Input) name the rule (and the device).
Status check_rollout_plan(const Rollout& plan, const std::vector<std::string>& devices);

/// The refusal of set_rollout_member for a member another run already handled:
/// names the device and says how to go on (the caller's chunk is undone).
std::string rollout_member_handled(const std::string& device, std::int64_t rollout_id);

/// The audit detail of create_rollout ("name=… devices=N waves=W wave_size=S kind=… auth=… key=…").
std::string rollout_audit_detail(const Rollout& created);

}  // namespace lscgate
