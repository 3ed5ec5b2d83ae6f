// lscgate registry copy: moving a registry between SQLite and PostgreSQL
// (registry/registry_copy.h).

#include "cli/commands.h"
#include "registry/database_kind.h"
#include "registry/registry_copy.h"

#include <iomanip>

namespace lscgate::cli {
namespace {

struct CopyArgs {
    std::string from;  // "" = the database in force (--database / LSCGATE_DATABASE / lscgate.toml)
    std::string to;
};

// A file named on the command line is relative to the current directory, as
// any shell user expects; a conninfo stays as written.
std::string command_line_database(const std::string& setting) {
    if (setting.empty() || is_postgresql_database(setting)) return setting;
    return std::filesystem::absolute(setting).lexically_normal().string();
}

void print_report(const CopyReport& report) {
    std::cout << std::left << std::setw(19) << "TABLE" << std::right << std::setw(9) << "SOURCE" << std::setw(9)
              << "TARGET" << "  SHA-256 (source / target)\n";
    for (const auto& t : report.tables) {
        std::cout << std::left << std::setw(19) << t.name << std::right << std::setw(9) << t.source_rows << std::setw(9)
                  << t.target_rows << "  " << t.source_sha256;
        if (t.matches()) std::cout << " (same)\n";
        else std::cout << "\n" << std::setw(39) << "" << t.target_sha256 << " MISMATCH\n";
    }
}

nlohmann::json report_json(const CopyReport& report, const std::string& from, const std::string& to) {
    auto tables = nlohmann::json::array();
    for (const auto& t : report.tables)
        tables.push_back({{"table", t.name},
                          {"source_rows", t.source_rows},
                          {"target_rows", t.target_rows},
                          {"source_sha256", t.source_sha256},
                          {"target_sha256", t.target_sha256},
                          {"match", t.matches()}});
    return {{"from", database_for_display(from)}, {"to", database_for_display(to)}, {"committed", report.committed},
            {"tables", tables}, {"not_copied", {"last_seen"}}};
}

int run_copy(CliContext& ctx, const CopyArgs& args) {
    std::string from = command_line_database(args.from);
    if (from.empty()) {
        auto cfg = ctx.config();
        if (!cfg) return ctx.error(cfg.message() + " (or give --from)");
        from = cfg->database_location();
    }
    const std::string to = command_line_database(args.to);
    auto report = copy_registry(from, to);
    if (!report) return ctx.error(report.message());
    if (ctx.json) ctx.print_json(report_json(*report, from, to));
    else print_report(*report);
    if (!report->committed)
        return ctx.error("the copy in " + database_for_display(to) +
                         " differs from the source (see MISMATCH above): rolled back, nothing was written");
    if (!ctx.json)
        std::cout << "copied " << database_for_display(from) << " -> " << database_for_display(to)
                  << " (one transaction, verified). Not copied: last_seen (RADIUS refills it).\n"
                  << "next: point [store] database (or LSCGATE_DATABASE) at it and restart lscgate serve; "
                     "point the FreeRADIUS module's database at it\n";
    return kExitOk;
}

}  // namespace

void add_registry_command(CLI::App& app, CliContext& ctx) {
    auto* registry = app.add_subcommand("registry", "Whole-registry operations");
    registry->require_subcommand(1);
    auto* copy = registry->add_subcommand(
        "copy", "Copy every device, operation, certificate, CAPF certificate, audit row, CAPF session and rollout "
                "into a new, empty registry (SQLite <-> PostgreSQL), verified by row counts and SHA-256 fingerprints");
    auto args = std::make_shared<CopyArgs>();
    copy->add_option("--from", args->from,
                     "source registry: SQLite file or PostgreSQL URI/conninfo (default: the configured database)");
    copy->add_option("--to", args->to, "target: a new SQLite file, or a PostgreSQL database without lscgate data")
        ->required();
    copy->add_flag("--json", ctx.json, "print the result as JSON");
    copy->callback([&ctx, args] { ctx.exit_code = run_copy(ctx, *args); });
}

}  // namespace lscgate::cli
