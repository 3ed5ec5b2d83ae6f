#include "fleet/lsc_report.h"

#include "pki/expiry.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

namespace lscgate {
namespace {

// Up to this many devices each is read by its own indexed queries; beyond, one
// walk of each table is cheaper than a query per device.
constexpr std::size_t kPerDeviceReads = 64;

// What the report keeps of a device's active LSC (not the PEM: 100 000 of
// those would be 200 MB for four columns).
struct ActiveLsc {
    std::int64_t id = 0;
    std::string serial;
    std::string issuer;
    UnixTime not_after = 0;
};

struct DeviceFacts {
    bool known = false;
    std::string model;
    std::optional<ActiveLsc> active;   // the newest active LSC
    std::optional<Operation> newest;   // the newest operation, any state
};

using FactsMap = std::unordered_map<std::string, DeviceFacts>;

struct Verdict {
    CucmLscStatus status = CucmLscStatus::NotInstalled;
    std::string cause_class;
    std::string cause;
};

Status note_certificate(FactsMap& facts, const CertificateRecord& c) {
    if (c.kind != CertificateKind::Lsc || c.status != CertificateStatus::Active) return {};
    auto it = facts.find(c.device_name);
    if (it == facts.end()) return {};
    auto& active = it->second.active;
    if (!active || c.id > active->id) active = ActiveLsc{c.id, c.facts.serial_hex, c.facts.issuer, c.facts.not_after};
    return {};
}

Status note_operation(FactsMap& facts, const Operation& o) {
    auto it = facts.find(o.device_name);
    if (it == facts.end()) return {};
    auto& newest = it->second.newest;
    if (!newest || o.id > newest->id) newest = o;
    return {};
}

Status note_device(FactsMap& facts, const Device& d) {
    auto it = facts.find(d.name);
    if (it == facts.end()) return {};
    it->second.known = true;
    it->second.model = d.model;
    return {};
}

Status read_one_by_one(Store& store, FactsMap& facts) {
    for (auto& [name, f] : facts) {
        auto device = store.find_device(name);
        if (!device) return device.error();
        if (!device->has_value()) continue;
        f.known = true;
        f.model = (*device)->model;
        auto certs = store.each_certificate(name, [&](const CertificateRecord& c) { return note_certificate(facts, c); });
        if (!certs) return certs;
        auto ops = store.each_operation(name, true, [&](const Operation& o) { return note_operation(facts, o); });
        if (!ops) return ops;
    }
    return {};
}

Status read_by_walks(Store& store, FactsMap& facts) {
    if (auto s = store.each_device([&](const Device& d) { return note_device(facts, d); }); !s) return s;
    if (auto s = store.each_certificate(std::nullopt, [&](const CertificateRecord& c) { return note_certificate(facts, c); }); !s)
        return s;
    return store.each_operation(std::nullopt, true, [&](const Operation& o) { return note_operation(facts, o); });
}

// The newest recorded session of `op` when it did not succeed.
Result<std::optional<CapfSessionRecord>> failed_session(Store& store, const Operation& op) {
    CapfSessionFilter filter;
    filter.operation_id = op.id;
    filter.limit = 1;
    std::optional<CapfSessionRecord> newest;
    auto walked = store.each_capf_session(filter, [&](const CapfSessionRecord& s) -> Status {
        if (!newest) newest = s;
        return {};
    });
    if (!walked) return walked.error();
    if (newest && newest->result == "succeeded") newest.reset();
    return newest;
}

Verdict failed_by_session(const CapfSessionRecord& s) {
    return Verdict{CucmLscStatus::Failed, s.cause_class.empty() ? s.result : s.cause_class,
                   s.cause.empty() ? (s.cause_class.empty() ? s.result : s.cause_class) : s.cause};
}

// The status at `now` from the newest operation (when it is open or failed) and the active LSC.
Result<Verdict> judge(Store& store, const DeviceFacts& f, UnixTime now) {
    const Verdict settled{f.active ? CucmLscStatus::Installed : CucmLscStatus::NotInstalled, {}, {}};
    if (!f.newest) return settled;
    const Operation& op = *f.newest;
    const OperationState state = effective_state(op, now);
    const bool open = state == OperationState::Pending || state == OperationState::InProgress;
    if (!open && state != OperationState::Failed && state != OperationState::TimedOut) return settled;
    auto session = failed_session(store, op);
    if (!session) return session.error();
    if (state == OperationState::TimedOut) {
        std::string cause = "timed out: not completed by " +
                            (op.request.completes_by ? format_utc(*op.request.completes_by) : std::string("its deadline"));
        if (*session) cause += "; last session: " + failed_by_session(**session).cause;
        return Verdict{CucmLscStatus::Failed, "timed-out", std::move(cause)};
    }
    if (*session) return failed_by_session(**session);
    if (state == OperationState::Failed)
        return Verdict{CucmLscStatus::Failed, "failed", op.last_error.empty() ? "failed" : op.last_error};
    // Open, no failed session recorded (sessions predating their recording, or
    // trimmed by [capf] session_history): a pending operation's last_error is
    // what its last session left. An in-progress one's names the claiming server.
    if (state == OperationState::Pending && !op.last_error.empty())
        return Verdict{CucmLscStatus::Failed, "failed", op.last_error};
    return Verdict{CucmLscStatus::Pending, {}, {}};
}

LscReportRow make_row(const BatchDevice& d, const DeviceFacts& f, Verdict verdict, const LastSeenIndex* seen,
                      UnixTime now) {
    LscReportRow row;
    row.device = d.name;
    row.model = f.model;
    row.status = verdict.status;
    row.cause_class = std::move(verdict.cause_class);
    row.cause = std::move(verdict.cause);
    if (f.newest) row.operation_id = f.newest->id;
    if (f.active) {
        row.serial = f.active->serial;
        row.issuer = f.active->issuer;
        row.not_after = f.active->not_after;
        row.days_left = days_left(f.active->not_after, now);
    }
    if (seen != nullptr) {
        if (auto it = seen->find(d.name); it != seen->end()) row.last_seen = it->second;
    }
    row.mic_only = row.last_seen && row.last_seen->cls == kSeenClassMic;
    return row;
}

// The text between `start` and the first `end` after it (to the end of the
// reason when `end` is missing: last-seen cuts reasons at 256 bytes).
std::string between(std::string_view reason, std::string_view start, std::string_view end) {
    const auto from = reason.find(start);
    if (from == std::string_view::npos) return {};
    const std::string_view rest = reason.substr(from + start.size());
    const auto to = end.empty() ? std::string_view::npos : rest.find(end);
    return std::string(rest.substr(0, to));
}

}  // namespace

std::string_view to_string(CucmLscStatus status) {
    switch (status) {
        case CucmLscStatus::Installed: return "Installed";
        case CucmLscStatus::NotInstalled: return "Not installed";
        case CucmLscStatus::Pending: return "Pending";
        case CucmLscStatus::Failed: return "Failed";
    }
    return "Failed";
}

std::string LscReportRow::status_text() const {
    std::string text(to_string(status));
    if (status == CucmLscStatus::Failed && !cause.empty()) text += ": " + cause;
    return text;
}

Status each_lsc_report_row(Store& store, const std::vector<BatchDevice>& devices, const LastSeenIndex* seen,
                           UnixTime now, const std::function<Status(const LscReportRow&)>& row) {
    FactsMap facts;
    facts.reserve(devices.size());
    for (const auto& d : devices) facts.emplace(d.name, DeviceFacts{});
    auto read = devices.size() <= kPerDeviceReads ? read_one_by_one(store, facts) : read_by_walks(store, facts);
    if (!read) return read;
    // Checked before the first row, so a report is whole or not printed at all.
    for (const auto& d : devices)
        if (!facts.at(d.name).known) return fail(ErrorKind::Input, "no such device: " + d.name + " (lscgate device list)");
    for (const auto& d : devices) {
        const DeviceFacts& f = facts.at(d.name);
        auto verdict = judge(store, f, now);
        if (!verdict) return verdict.error();
        if (auto s = row(make_row(d, f, std::move(*verdict), seen, now)); !s) return s;
    }
    return {};
}

std::string foreign_issuer_from_reason(std::string_view reason) {
    if (auto s = between(reason, "from an untrusted CAPF ", ""); !s.empty()) return s;
    if (auto s = between(reason, " was issued by ", ", which is no longer trusted"); !s.empty()) return s;
    return between(reason, "claims to be issued by ", " but was signed by another key");
}

Result<std::vector<ForeignDevice>> foreign_devices(Store& store, const LastSeenIndex& seen,
                                                   const std::unordered_set<std::string>* only) {
    std::vector<ForeignDevice> out;
    for (const auto& [name, event] : seen) {
        if (event.cls != kSeenClassLscForeign) continue;
        if (only != nullptr && !only->contains(name)) continue;
        ForeignDevice f;
        f.device = name;
        f.issuer = foreign_issuer_from_reason(event.reason);
        f.seen = event;
        out.push_back(std::move(f));
    }
    std::sort(out.begin(), out.end(), [](const ForeignDevice& a, const ForeignDevice& b) { return a.device < b.device; });
    // Only the few foreign ones are looked up (the index holds every seen device).
    for (auto& f : out) {
        auto device = store.find_device(f.device);
        if (!device) return device.error();
        if (!device->has_value()) continue;
        f.registered = true;
        f.model = (*device)->model;
    }
    return out;
}

}  // namespace lscgate
