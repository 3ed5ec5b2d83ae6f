// doctor --device: one phone as the registry sees it, in the words of Cisco's LSC
// troubleshooting ("Operation Pending", "LSC: Failed / Upgrade Failed: User
// Initiated Request Late/Timedout") and of `lscgate serve`'s log (README,
// Troubleshooting).

#include "capf/session_cause.h"
#include "cli/doctor_checks.h"
#include "registry/device_name.h"
#include "registry/fleet_records.h"
#include "registry/store.h"

#include "pki/printable.h"

#include <algorithm>
#include <vector>

namespace lscgate::cli::doctor {
namespace {

constexpr UnixTime kDeadlineWarningSeconds = 3600;

void check_operation(const Operation& op, const std::optional<CertificateRecord>& lsc, const Config& cfg,
                     const std::string& name, UnixTime now, Report& report) {
    const auto mode = std::string(to_string(op.request.auth_mode));
    const std::string what = "operation " + std::to_string(op.id) + " (" + std::string(to_string(op.request.kind)) +
                             ", auth " + mode + ", key " + op.request.key.to_string() +
                             (op.request.completes_by ? ", completes-by " + format_utc(*op.request.completes_by) : "") + ")";
    if (effective_state(op, now) == OperationState::TimedOut) {
        report.fail("device.late", "phone shows \"LSC: Failed\" / \"Upgrade Failed: User Initiated Request Late/Timedout\"; server log result=timed-out class=late end=0",
                    what + ": its deadline passed at " + format_utc(*op.request.completes_by),
                    "schedule again with a later --by: lscgate op install " + name + " --by …");
        return;
    }
    if (op.request.completes_by && *op.request.completes_by - now < kDeadlineWarningSeconds)
        report.warn("device.deadline-near", "soon \"Upgrade Failed: User Initiated Request Late/Timedout\"",
                    what + ": its deadline is in " + std::to_string((*op.request.completes_by - now) / 60) + " minutes",
                    "reset the phone now, or reschedule with a later --by");
    // A mode that asks for an existing certificate (LSC) while the registry knows no LSC of the phone.
    if (op.request.auth_mode == AuthMode::Lsc && !lsc)
        report.fail("device.mic-only", "\"Operation Pending\" never completes; server log cause=\"… certificate proof missing\"",
                    what + " asks for an existing LSC, but the registry holds no active LSC for " + name +
                        ": the phone can offer only its MIC",
                    "schedule with --auth lsc-or-mic (MIC roots configured) or --auth null/string for a first enrolment");
    if (auth_mode_accepts_mic(op.request.auth_mode) && cfg.mic_roots.empty())
        report.fail("device.no-mic-roots", "server log result=failed cause=\"server error (config): … no MIC roots configured\"",
                    what + " accepts a MIC, but [auth] mic_roots is not set", "set [auth] mic_roots to the Cisco manufacturing CA bundle");
    report.ok("device.operation", what + " is " + std::string(to_string(effective_state(op, now))));
}

// One operation's outcome as `op list` shows it: "operation 7 (install, auth null)
// failed 2026-11-30T10:00:00Z: <cause>".
std::string outcome(const Operation& op) {
    std::string s = "operation " + std::to_string(op.id) + " (" + std::string(to_string(op.request.kind)) + ", auth " +
                    std::string(to_string(op.request.auth_mode)) + ") " + std::string(to_string(op.state));
    s += " " + format_utc(op.finished_at ? *op.finished_at : op.updated_at);
    if (!op.last_error.empty()) s += ": " + escape_nonprintable(op.last_error);
    return s;
}

// Each operation holds the outcome of its last session (state, last_error,
// finished_at; an open one the cause of its last failed attempt): the last
// kRecentSessions operations, newest first, say what became of each request.
// Every session itself (retries included) is in the session table, read by
// check_capf_sessions.
constexpr std::size_t kRecentSessions = 5;

void check_sessions(Store& store, const std::string& name, Report& report) {
    auto ops = store.list_operations(name, true);
    if (!ops) {
        report.warn("device.sessions", "(not checked: the phone's recent CAPF sessions)", ops.message(), "");
        return;
    }
    if (ops->empty()) return;
    std::vector<const Operation*> recent;
    for (const auto& o : *ops) recent.push_back(&o);
    std::sort(recent.begin(), recent.end(), [](const Operation* a, const Operation* b) { return a->id > b->id; });
    if (recent.size() > kRecentSessions) recent.resize(kRecentSessions);
    std::string list;
    for (const auto* o : recent) list += (list.empty() ? "" : "; ") + outcome(*o);
    // The last session failed: the newest operation is still pending with the cause
    // its last attempt left, or the newest finished one did not succeed. (An
    // in-progress operation's last_error names the server holding it, not a cause.)
    const Operation* failed = nullptr;
    if (recent.front()->state == OperationState::Pending && !recent.front()->last_error.empty()) failed = recent.front();
    if (failed == nullptr)
        for (const auto* o : recent)
            if (is_finished(o->state)) {  // the newest finished one
                if (o->state != OperationState::Succeeded && !o->last_error.empty()) failed = o;
                break;
            }
    if (failed != nullptr) {
        const std::string ended = failed->state == OperationState::Pending ? std::string("a failure (the operation stays pending)")
                                                                           : std::string(to_string(failed->state));
        report.warn("device.last-session", "the phone's last CAPF session ended with " + ended,
                    "recent operations, newest first: " + list, "see README, Troubleshooting, for that cause");
    }
    else
        report.ok("device.sessions", "recent operations, newest first: " + list);
}

// What to do about a session that ended with `cause` (capf/session_cause.h).
std::string fix_for(capf::SessionCause cause, const std::string& name) {
    using capf::SessionCause;
    switch (cause) {
        case SessionCause::WrongString: return "retype the authentication string; lscgate device show " + name + " counts the failures";
        case SessionCause::LockedOut: return "wait for the lock to pass, or schedule again (lscgate op install " + name + " …) and retype the string";
        case SessionCause::CertificateRefused: return "match the auth mode to what the phone holds (lsc-or-mic; null/string for a first enrolment)";
        case SessionCause::KeyRefused: return "schedule a key the model supports (--key rsa:2048)";
        case SessionCause::Late: return "schedule again with a later --by";
        case SessionCause::DroppedDuringKeygen: return "let the phone retry; for slow models raise [server] keygen_timeout";
        case SessionCause::DroppedAfterKeygen: return "its LSC is unconfirmed: the next session (re-key with --auth lsc) settles it";
        case SessionCause::PhoneRefused: return "check the phone's own log; schedule the operation again";
        case SessionCause::Busy: return "another CAPF session holds the operation: wait for it, or reschedule";
        case SessionCause::UnknownDevice: return "lscgate device add " + name;
        case SessionCause::NoOperation: return "lscgate op install " + name + " …";
        case SessionCause::Server: return "fix what the cause names on the server (registry, configuration); the phone retries";
        case SessionCause::Connection: return "check the network between the phone and TCP 3804";
        case SessionCause::Protocol: return "check the phone's firmware; the cause names the message";
        case SessionCause::None: break;
    }
    return "see README, CAPF session history";
}

// One recorded session: "2026-11-30T10:00:00Z install failed [key-refused] <cause>".
std::string session_text(const CapfSessionRecord& s) {
    std::string t = format_utc(s.at) + " " + (s.operation.empty() ? "-" : s.operation) + " " + s.result;
    if (!s.cause_class.empty()) t += " [" + s.cause_class + "]";
    if (!s.cause.empty()) t += " " + escape_nonprintable(s.cause);
    return t;
}

// The phone's last kRecentSessions recorded CAPF sessions (as `lscgate capf
// sessions --device` lists them), and the class of the most recent failure.
void check_capf_sessions(Store& store, const std::string& name, Report& report) {
    CapfSessionFilter filter;
    filter.device = name;
    filter.limit = static_cast<int>(kRecentSessions);
    std::vector<CapfSessionRecord> recent;
    auto read = store.each_capf_session(filter, [&](const CapfSessionRecord& s) -> Status {
        recent.push_back(s);
        return {};
    });
    if (!read) {
        report.warn("device.capf-sessions", "(not checked: the phone's recorded CAPF sessions)", read.message(), "");
        return;
    }
    if (recent.empty()) {
        report.ok("device.capf-sessions", "no CAPF session of " + name + " recorded (lscgate serve records each one)");
        return;
    }
    std::string list;
    for (const auto& s : recent) list += (list.empty() ? "" : "; ") + session_text(s);
    const CapfSessionRecord* failure = nullptr;
    for (const auto& s : recent)
        if (!s.cause_class.empty()) {
            failure = &s;
            break;
        }
    if (failure == &recent.front()) {
        const auto cls = capf::parse_session_cause(failure->cause_class);
        report.warn("device.last-capf-session",
                    "the phone's last CAPF session ended " + failure->result + ", class " + failure->cause_class +
                        (cls ? " (" + std::string(capf::describe(*cls)) + ")" : ""),
                    "recorded CAPF sessions, newest first: " + list,
                    cls ? fix_for(*cls, name) : "see README, CAPF session history");
        return;
    }
    report.ok("device.capf-sessions",
              "recorded CAPF sessions, newest first: " + list +
                  (failure ? " (most recent failure: class " + failure->cause_class + ", " + format_utc(failure->at) + ")" : ""));
}

}  // namespace

void check_device(const Config& cfg, const std::string& raw_name, const SeenSource& seen, UnixTime now, Report& report) {
    auto normalized = normalize_device_name(raw_name);
    if (!normalized) {
        report.fail("device.name", "server log result=failed class=protocol end=7", normalized.message(), "give the name as CUCM does (SEP + 12 hex digits)");
        return;
    }
    const std::string& name = *normalized;
    auto store = Store::open(cfg.database_location());
    if (!store) {
        report.fail("device.registry", "(not checked)", "registry " + cfg.database_display() + ": " + store.message(), "fix [store] database");
        return;
    }
    auto device = store->find_device(name);
    if (!device) {
        report.fail("device.registry", "(not checked)", device.message(), "");
        return;
    }
    if (!*device) {
        report.fail("device.unknown", "\"Operation Pending\" never completes; server log result=unknown-device class=unknown-device end=9",
                    name + " is not in the registry", "lscgate device add " + name);
        return;
    }
    const Device& d = **device;
    if (d.locked_until && *d.locked_until > now)
        report.fail("device.locked", "phone shows \"LSC: Failed\"; server log result=rejected cause=\"device locked …\"",
                    name + " is locked until " + format_utc(*d.locked_until) + " after " + std::to_string(d.auth_failures) +
                        " wrong authentication strings",
                    "wait, or schedule the operation again (lscgate op install " + name + " …) and retype the string");
    else if (d.auth_failures > 0)
        report.warn("device.auth-failures", "server log result=rejected cause=\"authentication failed: wrong authentication string\"",
                    name + " has " + std::to_string(d.auth_failures) + " failed attempt(s); the lock comes at " +
                        std::to_string(cfg.lockout_failures),
                    "retype the authentication string carefully");
    auto lsc = store->active_lsc(name);
    if (!lsc) {
        report.fail("device.registry", "(not checked)", lsc.message(), "");
        return;
    }
    auto op = store->open_operation(d.id);
    if (!op) {
        report.fail("device.registry", "(not checked)", op.message(), "");
        return;
    }
    if (*op) check_operation(**op, *lsc, cfg, name, now, report);
    else if (!*lsc)
        report.warn("device.no-operation", "\"Operation Pending\" never completes; server log result=no-operation class=no-operation end=0",
                    name + " has neither an LSC nor a scheduled operation", "lscgate op install " + name + " …");
    check_sessions(*store, name, report);
    check_capf_sessions(*store, name, report);
    check_last_seen(cfg, name, *lsc, seen, report);
    if (*lsc)
        report.ok("device.lsc", name + " holds LSC serial " + (*lsc)->facts.serial_hex + " (" + std::string(to_string((*lsc)->status)) +
                                    "), valid until " + format_utc((*lsc)->facts.not_after));
    report.ok("device", name + " is registered" + (d.model.empty() ? "" : " (" + escape_nonprintable(d.model) + ")"));
}

}  // namespace lscgate::cli::doctor
