#pragma once

// What became of a rollout (issue 10 item 4): each device in one category,
// counts per wave and overall, the failures grouped by the cause class of the
// newest CAPF session of their operation (capf/session_cause.h names the
// classes; this layer keeps them as text, the CLI describes them), the rate of
// successes and an ETA. Everything is judged at a `now` given by the caller.
// Computed while the registry's rows stream by: memory grows with the failed
// and skipped devices, not with the rollout.

#include "pki/result.h"
#include "registry/fleet_records.h"
#include "registry/store.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lscgate {

/// One device of a rollout, as `rollout status` counts it.
enum class MemberCategory {
    Waiting,     ///< its wave is not scheduled yet
    Skipped,     ///< its wave did not schedule it (an open operation, no longer registered)
    Pending,     ///< its operation waits for the phone, and no session of it failed
    InProgress,  ///< a CAPF session is working on it now
    Succeeded,   ///< its operation succeeded
    Failed,      ///< its operation failed, or is still open but its newest session failed (the phone retries)
    TimedOut,    ///< its completes-by passed before it succeeded (a late phone is refused)
    Cancelled,   ///< its operation was cancelled or replaced by someone else
};

/// "waiting", "skipped", "pending", "in-progress", "succeeded", "failed", "timed-out", "cancelled".
std::string_view to_string(MemberCategory c);

/// The category of `m` at `now`: by its skip, else by its operation (none yet:
/// waiting; open operations past their completes-by are timed out, as
/// effective_state says; an open one whose newest session did not succeed is
/// failed). A member whose operation row is gone (its device was removed) is cancelled.
MemberCategory categorize(const RolloutMember& m, UnixTime now);

/// How many devices are in each category.
struct StatusCounts {
    int waiting = 0;
    int skipped = 0;
    int pending = 0;
    int in_progress = 0;
    int succeeded = 0;
    int failed = 0;
    int timed_out = 0;
    int cancelled = 0;

    void add(MemberCategory c);
    int total() const;
    /// Devices given an operation by their wave (total less waiting and skipped).
    int scheduled() const { return total() - waiting - skipped; }
    /// Devices whose phone has yet to come (pending or in progress): what the ETA is about.
    int open() const { return pending + in_progress; }
};

/// Successes over time: from the end times of the succeeded sessions.
struct Throughput {
    std::optional<double> rate_per_min;        ///< (successes - 1) / their time span; none with fewer than 2
    std::optional<std::int64_t> eta_seconds;   ///< open devices / rate; 0 when none is open; none without a rate
};

/// One wave with its counts.
struct WaveStatus {
    RolloutWave wave;
    StatusCounts counts;
    Throughput throughput;
};

/// The failed and timed-out devices of one cause class.
struct FailureGroup {
    /// The newest session's cause_class (capf/session_cause.h: "wrong-string",
    /// "key-refused", "late", "dropped-after-keygen", …); "no-session" for a
    /// timed-out operation no phone came for; "unknown" when no session says why.
    std::string cause_class;
    /// For "unknown": the operation's last_error (one group per distinct error); else "".
    std::string detail;
    std::vector<std::string> devices;  ///< sorted
};

/// A device its wave skipped, and why.
struct SkippedMember {
    std::string device;
    int wave = 0;
    std::string reason;
};

/// `lscgate rollout status` of one rollout (or one wave of it) at `at`.
struct RolloutStatus {
    Rollout rollout;
    UnixTime at = 0;
    std::vector<WaveStatus> waves;  ///< in wave order (only the wave asked for, with --wave)
    StatusCounts counts;            ///< over `waves`
    Throughput throughput;          ///< over `waves`
    std::vector<FailureGroup> failures;  ///< most devices first, then by class
    std::vector<SkippedMember> skipped;  ///< in input order

    /// Nothing is left to wait for among the scheduled devices: no pending or
    /// in-progress one (`--watch` stops; waiting waves need `rollout next`).
    bool settled() const { return counts.open() == 0; }
};

/// Computes rollouts' status from member rows as they stream by (see read_rollout_status).
class RolloutStatusBuilder {
public:
    /// `waves`: the rollout's waves to count (every wave, or the one asked for).
    RolloutStatusBuilder(Rollout rollout, std::vector<RolloutWave> waves, UnixTime now);
    /// Counts one member; members of waves not given to the constructor are ignored.
    void add(const RolloutMember& m);
    /// The status of every member added.
    RolloutStatus finish();

private:
    struct SuccessSpan {
        int count = 0;
        UnixTime first = 0;
        UnixTime last = 0;
        void add(UnixTime at);
    };
    RolloutStatus status_;
    std::vector<SuccessSpan> wave_spans_;
    SuccessSpan all_span_;
    std::vector<FailureGroup> groups_;
    std::map<std::pair<std::string, std::string>, std::size_t> group_index_;  ///< (class, detail) → groups_ index

    void add_failure(const RolloutMember& m, MemberCategory c);
    static Throughput throughput(const SuccessSpan& span, int open);
};

/// The status of rollout `name` (only wave `wave` when given) at `now`, read
/// from `store`. Errors: no such rollout or wave (kind Input), the registry's.
Result<RolloutStatus> read_rollout_status(Store& store, const std::string& name, std::optional<int> wave, UnixTime now);

/// A duration for a person, coarse: "45s", "12m", "3h10m", "2d4h".
std::string format_eta(std::int64_t seconds);

/// One line of progress for a terminal, e.g.
/// `wave 2/3 [#########x..........] 57/100 succeeded 3 failed  4.1/min  ETA 10m`:
/// '#' succeeded, 'x' failed or timed out, '.' the rest, `bar_width` cells;
/// "waiting" for a wave not scheduled, "done" once nothing is open.
std::string progress_line(const WaveStatus& w, int wave_count, int bar_width);

}  // namespace lscgate
