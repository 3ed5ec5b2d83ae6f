#include "fleet/rollout_status.h"

#include "pki/printable.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>
#include <utility>

namespace lscgate {
namespace {

// A session row's result for a session that issued (or fetched, deleted) what was asked.
constexpr std::string_view kSessionSucceeded = "succeeded";

// The class a failed or timed-out member is grouped under, and (class
// "unknown" only) the words that say why.
std::pair<std::string, std::string> failure_class(const RolloutMember& m, MemberCategory c) {
    if (m.last_session && !m.last_session->cause_class.empty()) return {m.last_session->cause_class, ""};
    if (c == MemberCategory::TimedOut && !m.last_session) return {"no-session", ""};
    std::string detail = m.last_session && !m.last_session->cause.empty() ? m.last_session->cause : m.last_error;
    return {"unknown", detail};
}

}  // namespace

std::string_view to_string(MemberCategory c) {
    switch (c) {
        case MemberCategory::Waiting: return "waiting";
        case MemberCategory::Skipped: return "skipped";
        case MemberCategory::Pending: return "pending";
        case MemberCategory::InProgress: return "in-progress";
        case MemberCategory::Succeeded: return "succeeded";
        case MemberCategory::Failed: return "failed";
        case MemberCategory::TimedOut: return "timed-out";
        case MemberCategory::Cancelled: return "cancelled";
    }
    return "waiting";
}

MemberCategory categorize(const RolloutMember& m, UnixTime now) {
    if (!m.skipped.empty()) return MemberCategory::Skipped;
    if (!m.operation_id) return MemberCategory::Waiting;
    if (!m.state) return MemberCategory::Cancelled;
    Operation op;
    op.state = *m.state;
    op.request.completes_by = m.completes_by;
    switch (effective_state(op, now)) {
        case OperationState::Succeeded: return MemberCategory::Succeeded;
        case OperationState::Failed: return MemberCategory::Failed;
        case OperationState::TimedOut: return MemberCategory::TimedOut;
        case OperationState::Cancelled: return MemberCategory::Cancelled;
        case OperationState::Pending:
        case OperationState::InProgress: break;
    }
    // Still open: a session that failed means the phone came and did not get
    // through; it will retry, but someone may have to act (wrong string, key type).
    if (m.last_session && m.last_session->result != kSessionSucceeded) return MemberCategory::Failed;
    return *m.state == OperationState::Pending ? MemberCategory::Pending : MemberCategory::InProgress;
}

void StatusCounts::add(MemberCategory c) {
    switch (c) {
        case MemberCategory::Waiting: ++waiting; break;
        case MemberCategory::Skipped: ++skipped; break;
        case MemberCategory::Pending: ++pending; break;
        case MemberCategory::InProgress: ++in_progress; break;
        case MemberCategory::Succeeded: ++succeeded; break;
        case MemberCategory::Failed: ++failed; break;
        case MemberCategory::TimedOut: ++timed_out; break;
        case MemberCategory::Cancelled: ++cancelled; break;
    }
}

int StatusCounts::total() const {
    return waiting + skipped + pending + in_progress + succeeded + failed + timed_out + cancelled;
}

void RolloutStatusBuilder::SuccessSpan::add(UnixTime at) {
    first = count == 0 ? at : std::min(first, at);
    last = count == 0 ? at : std::max(last, at);
    ++count;
}

RolloutStatusBuilder::RolloutStatusBuilder(Rollout rollout, std::vector<RolloutWave> waves, UnixTime now) {
    status_.rollout = std::move(rollout);
    status_.at = now;
    std::sort(waves.begin(), waves.end(), [](const auto& a, const auto& b) { return a.wave < b.wave; });
    for (auto& w : waves) status_.waves.push_back(WaveStatus{std::move(w), {}, {}});
    wave_spans_.resize(status_.waves.size());
}

void RolloutStatusBuilder::add(const RolloutMember& m) {
    // Waves are few and sorted: a binary search per member.
    auto it = std::lower_bound(status_.waves.begin(), status_.waves.end(), m.wave,
                               [](const WaveStatus& w, int wave) { return w.wave.wave < wave; });
    if (it == status_.waves.end() || it->wave.wave != m.wave) return;
    const auto index = static_cast<std::size_t>(it - status_.waves.begin());
    const MemberCategory c = categorize(m, status_.at);
    it->counts.add(c);
    status_.counts.add(c);
    if (c == MemberCategory::Succeeded && m.last_session) {
        wave_spans_[index].add(m.last_session->at);
        all_span_.add(m.last_session->at);
    }
    if (c == MemberCategory::Skipped) status_.skipped.push_back({m.device, m.wave, m.skipped});
    if (c == MemberCategory::Failed || c == MemberCategory::TimedOut) add_failure(m, c);
}

void RolloutStatusBuilder::add_failure(const RolloutMember& m, MemberCategory c) {
    auto key = failure_class(m, c);
    auto [it, added] = group_index_.try_emplace(key, groups_.size());
    if (added) groups_.push_back(FailureGroup{std::move(key.first), std::move(key.second), {}});
    groups_[it->second].devices.push_back(m.device);
}

Throughput RolloutStatusBuilder::throughput(const SuccessSpan& span, int open) {
    Throughput t;
    if (span.count >= 2) {
        // count - 1 intervals between the first and the last success; a span
        // within one second counts as one second (session times are whole seconds).
        const double seconds = static_cast<double>(std::max<UnixTime>(1, span.last - span.first));
        t.rate_per_min = (span.count - 1) * 60.0 / seconds;
    }
    if (open == 0) t.eta_seconds = 0;
    else if (t.rate_per_min && *t.rate_per_min > 0)
        t.eta_seconds = static_cast<std::int64_t>(std::ceil(open * 60.0 / *t.rate_per_min));
    return t;
}

RolloutStatus RolloutStatusBuilder::finish() {
    for (std::size_t i = 0; i < status_.waves.size(); ++i)
        status_.waves[i].throughput = throughput(wave_spans_[i], status_.waves[i].counts.open());
    status_.throughput = throughput(all_span_, status_.counts.open());
    for (auto& g : groups_) std::sort(g.devices.begin(), g.devices.end());
    std::sort(groups_.begin(), groups_.end(), [](const FailureGroup& a, const FailureGroup& b) {
        if (a.devices.size() != b.devices.size()) return a.devices.size() > b.devices.size();
        return std::tie(a.cause_class, a.detail) < std::tie(b.cause_class, b.detail);
    });
    status_.failures = std::move(groups_);
    groups_.clear();
    group_index_.clear();
    return std::move(status_);
}

Result<RolloutStatus> read_rollout_status(Store& store, const std::string& name, std::optional<int> wave, UnixTime now) {
    auto found = store.find_rollout(name);
    if (!found) return found.error();
    if (!found->has_value())
        return fail(ErrorKind::Input, "no rollout named '" + escape_nonprintable(name) + "' (see 'lscgate rollout list')");
    const Rollout& r = **found;
    std::vector<RolloutWave> waves;
    auto walked = store.each_rollout_wave(r.id, [&](const RolloutWave& w) -> Status {
        if (!wave || w.wave == *wave) waves.push_back(w);
        return {};
    });
    if (!walked) return walked.error();
    if (wave && waves.empty())
        return fail(ErrorKind::Input, "rollout " + r.name + " has waves 1 to " + std::to_string(r.waves) + ", not " +
                                          std::to_string(*wave));
    RolloutStatusBuilder builder(r, std::move(waves), now);
    auto members = store.each_rollout_member(r.id, wave, [&](const RolloutMember& m) -> Status {
        builder.add(m);
        return {};
    });
    if (!members) return members.error();
    return builder.finish();
}

std::string format_eta(std::int64_t seconds) {
    seconds = std::max<std::int64_t>(0, seconds);
    if (seconds < 60) return std::to_string(seconds) + "s";
    const std::int64_t minutes = (seconds + 59) / 60;  // an ETA rounds up
    if (minutes < 60) return std::to_string(minutes) + "m";
    if (minutes < 24 * 60) {
        const auto m = minutes % 60;
        return std::to_string(minutes / 60) + "h" + (m ? std::to_string(m) + "m" : "");
    }
    const std::int64_t hours = (minutes + 59) / 60;
    const auto h = hours % 24;
    return std::to_string(hours / 24) + "d" + (h ? std::to_string(h) + "h" : "");
}

std::string progress_line(const WaveStatus& w, int wave_count, int bar_width) {
    const StatusCounts& c = w.counts;
    const int total = std::max(1, c.total());
    bar_width = std::max(1, bar_width);
    const int done = c.succeeded * bar_width / total;
    const int bad = std::min(bar_width - done, (c.failed + c.timed_out) * bar_width / total);
    std::string line = "wave " + std::to_string(w.wave.wave) + "/" + std::to_string(wave_count) + " [" +
                       std::string(static_cast<std::size_t>(done), '#') + std::string(static_cast<std::size_t>(bad), 'x') +
                       std::string(static_cast<std::size_t>(bar_width - done - bad), '.') + "] ";
    if (!w.wave.scheduled_at && c.scheduled() == 0) return line + "waiting, " + std::to_string(c.total()) + " devices";
    line += std::to_string(c.succeeded) + "/" + std::to_string(c.total()) + " succeeded";
    const std::pair<int, const char*> others[] = {
        {c.failed, "failed"}, {c.timed_out, "timed out"}, {c.cancelled, "cancelled"}, {c.skipped, "skipped"}};
    for (const auto& [n, what] : others)
        if (n > 0) line += " " + std::to_string(n) + " " + what;
    if (w.throughput.rate_per_min) {
        char rate[32];
        std::snprintf(rate, sizeof rate, "  %.1f/min", *w.throughput.rate_per_min);
        line += rate;
    }
    if (c.open() == 0) return line + "  done";
    return line + "  ETA " + (w.throughput.eta_seconds ? format_eta(*w.throughput.eta_seconds) : std::string("-"));
}

}  // namespace lscgate
