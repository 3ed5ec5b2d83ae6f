#include "capf/session_record.h"

#include "pki/printable.h"
#include "registry/fleet_records.h"

namespace lscgate::capf {

// One line per session, written before the socket is closed so that whoever
// sees the connection end (a phone, a test) can rely on the line being there.
std::string session_log_line(std::uint32_t sid, const std::string& peer, const SessionOutcome& outcome,
                             Clock::time_point started) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    std::string line = "capf session=" + std::to_string(sid) + " peer=" + peer + " device=" +
                       (outcome.device.empty() ? "-" : escape_nonprintable(outcome.device)) + " mode=" +
                       (outcome.auth_mode.empty() ? "-" : outcome.auth_mode) +
                       (outcome.authenticated_by.empty() ? "" : "(" + outcome.authenticated_by + ")") + " op=" +
                       (outcome.operation.empty() ? "-" : outcome.operation) + " result=" + outcome.result +
                       (outcome.cause_class == SessionCause::None ? "" : " class=" + std::string(to_string(outcome.cause_class))) +
                       " end=" + (outcome.end_reason < 0 ? std::string("-") : std::to_string(outcome.end_reason));
    if (!outcome.serial.empty()) line += " serial=" + outcome.serial;
    if (!outcome.cause.empty()) line += " cause=" + quote_for_log(outcome.cause);
    if (!outcome.note.empty()) line += " note=" + quote_for_log(outcome.note);
    line += " ms=" + std::to_string(ms);
    return line;
}

// Written on a registry connection of the worker pool, before the log line:
// whoever waits for the line finds the row.
void record_session(Store& store, std::int64_t keep_rows, const std::string& peer, SessionOutcome& outcome,
                    Clock::time_point started) {
    CapfSessionRecord row;
    row.at = now_utc();
    row.device = outcome.device;
    row.operation_id = outcome.operation_id;
    row.operation = outcome.operation;
    row.auth_mode = outcome.auth_mode;
    row.result = outcome.result;
    row.cause_class = std::string(to_string(outcome.cause_class));
    row.cause = outcome.cause;
    row.peer = peer;
    row.serial = outcome.serial;
    row.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    if (auto s = store.record_capf_session(row, keep_rows); !s)
        outcome.note += (outcome.note.empty() ? "" : "; ") + std::string("session not recorded: ") + s.message();
}

}  // namespace lscgate::capf
