#pragma once

// How `lscgate rollout` shows rollouts and their status (issue 10 item 4): as
// JSON, as plain lines (not a terminal: logs, pipes, cron mail), or on a
// terminal as one progress bar per wave, redrawn in place by --watch.

#include "cli/cli_context.h"
#include "fleet/rollout_status.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace lscgate::cli {

/// A rollout as JSON: {"name", "operation", "auth", "generated_strings", "key",
/// "wave_size", "waves", "next_wave" (null once every wave is scheduled),
/// "devices", "by_seconds" (null: no deadline), "created_at", "created_by"}.
nlohmann::json rollout_json(const Rollout& r);

/// One line about a rollout's request, e.g. "install auth=string key=rsa:2048,
/// 300 devices in 3 waves of 100, each wave completes by +7d".
std::string rollout_summary(const Rollout& r);

/// A failure group's heading in words: capf::describe of its class, the
/// operation's last error for "unknown", the class itself if it is not known.
std::string failure_description(const FailureGroup& g);

/// `rollout status --json` of one rollout: {"rollout": rollout_json, "at",
/// "waves": [{"wave", "devices", "scheduled_at", "completes_by", "counts",
/// "rate_per_min", "eta_seconds"}], "counts", "failures": [{"class",
/// "description", "devices"}], "skipped": [{"device", "wave", "reason"}],
/// "rate_per_min", "eta_seconds", "settled"}. Times are UTC text, absent ones null.
nlohmann::json status_json(const RolloutStatus& s);

/// The status as lines of text. `terminal`: progress bars sized for `width`
/// columns, long device lists cut short; otherwise plain lines listing every device.
std::vector<std::string> status_lines(const RolloutStatus& s, bool terminal, int width);

/// `rollout status [NAME] [--wave N] [--watch [--interval S]] [--json]`.
struct StatusArgs {
    std::string name;          ///< "" = every rollout
    std::optional<int> wave;   ///< only this wave (needs a name)
    bool watch = false;        ///< redraw until nothing scheduled is open
    double interval = 2.0;     ///< seconds between redraws with --watch
};

/// Runs `rollout status`; returns the exit code. With --watch it redraws every
/// `interval` seconds (sleeping in between) until every rollout shown is
/// settled, in place on a terminal (ANSI cursor-up), else printing the lines
/// again only when they changed.
int run_rollout_status(CliContext& ctx, const StatusArgs& args);

}  // namespace lscgate::cli
