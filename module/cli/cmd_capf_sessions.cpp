// `lscgate capf sessions`: the CAPF sessions `lscgate serve` recorded in the
// registry (issue 10 item 4), newest first, to watch a rollout and group its
// failures by class (capf/session_cause.h).

#include "cli/commands.h"
#include "cli/json_array_writer.h"
#include "pki/printable.h"
#include "pki/time_text.h"
#include "registry/device_name.h"
#include "registry/fleet_records.h"

#include <cstdio>
#include <memory>

namespace lscgate::cli {
namespace {

struct SessionsArgs {
    std::string device;
    std::string since;
    int limit = 50;
};

// --since as a time in the past: -90s, -30m, -12h, -7d, or an absolute time
// as --by takes it (parse_time_text).
Result<UnixTime> parse_since(const std::string& text, UnixTime now) {
    if (!text.empty() && text.front() == '-') {
        auto ahead = parse_time_text("+" + text.substr(1), now);
        if (!ahead) return fail(ErrorKind::Input, "--since " + escape_nonprintable(text) + ": use -90s, -30m, -12h, -7d or a time");
        return now - (*ahead - now);
    }
    auto at = parse_time_text(text, now);
    if (!at) return fail(ErrorKind::Input, "--since: " + at.message() + " (or -90s, -30m, -12h, -7d: that long ago)");
    return *at;
}

nlohmann::json session_json(const CapfSessionRecord& s) {
    return {{"id", s.id},
            {"at", format_utc(s.at)},
            {"at_unix", s.at},
            {"device", s.device},
            {"operation_id", s.operation_id ? nlohmann::json(*s.operation_id) : nlohmann::json(nullptr)},
            {"operation", s.operation},
            {"auth_mode", s.auth_mode},
            {"result", s.result},
            {"class", s.cause_class},
            {"cause", s.cause},
            {"peer", s.peer},
            {"serial", s.serial},
            {"duration_ms", s.duration_ms}};
}

const char* or_dash(const std::string& s) { return s.empty() ? "-" : s.c_str(); }

void print_session_row(const CapfSessionRecord& s) {
    const std::string device = escape_nonprintable(s.device);
    const std::string cause = escape_nonprintable(s.cause);
    std::printf("%-20s %-15s %-7s %-10s %-14s %-21s %-21s %s\n", format_utc(s.at).c_str(), or_dash(device),
                or_dash(s.operation), or_dash(s.auth_mode), or_dash(s.result), or_dash(s.cause_class), or_dash(s.peer),
                or_dash(cause));
}

int run_sessions(CliContext& ctx, const SessionsArgs& args) {
    CapfSessionFilter filter;
    filter.limit = args.limit;
    if (!args.device.empty()) {
        auto n = normalize_device_name(args.device);
        if (!n) return ctx.error(n.message());
        filter.device = *n;
    }
    if (!args.since.empty()) {
        auto since = parse_since(args.since, now_utc());
        if (!since) return ctx.error(since.message());
        filter.since = *since;
    }
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    JsonArrayWriter json(std::cout);
    if (!ctx.json)
        std::printf("%-20s %-15s %-7s %-10s %-14s %-21s %-21s %s\n", "TIME", "DEVICE", "OP", "MODE", "RESULT", "CLASS",
                    "PEER", "CAUSE");
    // Streamed: each row is printed as it is read (up to session_history rows).
    auto walked = store->each_capf_session(filter, [&](const CapfSessionRecord& s) -> Status {
        if (ctx.json) json.add(session_json(s));
        else print_session_row(s);
        return {};
    });
    if (!walked) return ctx.error(walked.message());
    if (ctx.json) json.finish();
    else std::fflush(stdout);
    return kExitOk;
}

}  // namespace

void add_capf_sessions_command(CLI::App& capf, CliContext& ctx) {
    auto args = std::make_shared<SessionsArgs>();
    auto* sessions = capf.add_subcommand(
        "sessions", "The CAPF sessions lscgate serve recorded, newest first: result, class and cause of each");
    sessions->add_option("--device", args->device, "only this device");
    sessions->add_option("--since", args->since, "only sessions that ended since: -90s, -30m, -12h, -7d or a time");
    sessions->add_option("--limit", args->limit, "at most N sessions (0: every one kept)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    sessions->add_flag("--json", ctx.json, "print as a JSON array");
    sessions->callback([&ctx, args] { ctx.exit_code = run_sessions(ctx, *args); });
}

}  // namespace lscgate::cli
