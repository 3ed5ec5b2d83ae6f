// `lscgate device seen [NAME] [--file F] [--json]`: what the RADIUS nodes
// recorded last per device and node (registry/last_seen_sink.h): from a node's
// SQLite last-seen file (--file, the module's last_seen_database), or from the
// PostgreSQL registry of lscgate.toml / --database (lscgate.last_seen).

#include "cli/commands.h"
#include "pki/certificate.h"
#include "pki/printable.h"
#include "registry/database_kind.h"
#include "registry/device_name.h"
#include "registry/last_seen_sink.h"
#include "registry/postgresql/pg_last_seen.h"

#include <cstdio>
#include <optional>

namespace lscgate::cli {
namespace {

struct SeenArgs {
    std::string name;
    std::string file;
    std::string database;
};

nlohmann::json seen_json(const SeenRecord& r) {
    const SeenEvent& e = r.last;
    return {{"device", e.device},
            {"node", e.node},
            {"class", e.cls},
            {"nas", e.nas},
            {"nas_port_id", e.nas_port_id},
            {"calling_station_id", e.calling_station_id},
            {"acct_session_id", e.acct_session_id},
            {"audit_session_id", e.audit_session_id},
            {"reason", e.reason},
            {"at", format_utc(e.at)},
            {"count", r.count}};
}

std::string dash(const std::string& s) { return s.empty() ? "-" : escape_nonprintable(s); }

Result<std::vector<SeenRecord>> read_seen(const CliContext& ctx, const SeenArgs& args, const std::optional<std::string>& device) {
    if (!args.file.empty()) {
        auto all = read_sqlite_last_seen(args.file);
        if (!all) return fail(args.file + ": " + all.message());
        if (!device) return all;
        std::vector<SeenRecord> one;
        for (auto& r : *all)
            if (r.last.device == *device) one.push_back(std::move(r));
        return one;
    }
    std::string database = args.database;
    if (database.empty()) {
        auto cfg = ctx.config();
        if (!cfg) return cfg.error();
        database = cfg->database_location();
    }
    if (!is_postgresql_database(database))
        return fail(ErrorKind::Config, "the registry is a SQLite file, which holds no last-seen: give the RADIUS "
                                       "node's last-seen file with --file (the module's last_seen_database)");
    return read_pg_last_seen(database, device);
}

int run_seen(CliContext& ctx, const SeenArgs& args) {
    std::optional<std::string> device;
    if (!args.name.empty()) {
        // A phone name is compared as the module records it (normalised); any
        // other name (a CN last-seen kept as is) literally.
        auto normalized = normalize_device_name(args.name);
        device = normalized ? *normalized : args.name;
    }
    auto rows = read_seen(ctx, args, device);
    if (!rows) return ctx.error(rows.message());
    if (ctx.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& r : *rows) out.push_back(seen_json(r));
        ctx.print_json(out);
    } else {
        std::printf("%-16s %-12s %-16s %-15s %-20s %-17s %-16s %-24s %-20s %s\n", "DEVICE", "NODE", "CLASS", "NAS",
                    "PORT", "CALLING-STATION", "ACCT-SESSION", "AUDIT-SESSION", "SEEN", "COUNT");
        for (const auto& r : *rows) {
            const SeenEvent& e = r.last;
            std::printf("%-16s %-12s %-16s %-15s %-20s %-17s %-16s %-24s %-20s %lld\n", dash(e.device).c_str(),
                        dash(e.node).c_str(), dash(e.cls).c_str(), dash(e.nas).c_str(), dash(e.nas_port_id).c_str(),
                        dash(e.calling_station_id).c_str(), dash(e.acct_session_id).c_str(),
                        dash(e.audit_session_id).c_str(), format_utc(e.at).c_str(), static_cast<long long>(r.count));
        }
    }
    if (device && rows->empty()) {
        std::fprintf(stderr, "lscgate: %s has not been seen\n", escape_nonprintable(*device).c_str());
        return kExitRefused;
    }
    return kExitOk;
}

}  // namespace

void add_device_seen_command(CLI::App& device, CliContext& ctx) {
    auto args = std::make_shared<SeenArgs>();
    auto* seen = device.add_subcommand("seen", "What the RADIUS nodes saw last, per device and node");
    seen->add_option("NAME", args->name, "only this device");
    seen->add_option("--file", args->file, "a RADIUS node's SQLite last-seen file (the module's last_seen_database)");
    seen->add_option("--database", args->database, "the PostgreSQL registry (default: [store] database)");
    seen->add_flag("--json", ctx.json, "print as JSON");
    seen->callback([&ctx, args] { ctx.exit_code = run_seen(ctx, *args); });
}

}  // namespace lscgate::cli
