// `lscgate report lsc|stale|foreign [selection] [--seen-file F]... [--json|--csv]`
// (issue 10 item 5): per device its LSC status in CUCM's words with the active
// LSC and the last RADIUS authentication; the unconfirmed (stale) LSCs; the
// devices RADIUS saw with an LSC from a CAPF it does not trust. And `lscgate
// cert purge-stale [--older-than 7d] [--dry-run]`, which revokes stale LSCs.
// The rows come from module/fleet (lsc_report.h, stale_lsc.h); this file only
// selects, reads last-seen and prints (cli/report_output.h).

#include "cli/bulk_source.h"
#include "cli/commands.h"
#include "cli/report_output.h"
#include "fleet/device_query.h"
#include "fleet/lsc_report.h"
#include "fleet/stale_lsc.h"
#include "pki/expiry.h"
#include "pki/printable.h"
#include "registry/database_kind.h"

#include <memory>
#include <optional>
#include <unordered_set>

namespace lscgate::cli {
namespace {

constexpr std::int64_t kDay = 86400;

struct ReportArgs {
    BulkOptions selection;
    bool csv = false;
};

bool selection_given(const BulkOptions& o) { return !o.names.empty() || !o.from.empty() || !o.where.empty() || o.all; }

// The selected devices. resolve_batch takes --seen-file only with --where (for
// seen=…); the reports read last-seen themselves, so it is not passed on alone.
Result<DeviceBatch> selected(const CliContext& ctx, Store& store, const BulkOptions& o, UnixTime now) {
    BulkOptions query = o;
    if (query.where.empty()) query.seen_files.clear();
    return resolve_batch(ctx, store, query, Registered::MustExist, {}, now);
}

// An optional selection (stale, foreign): none given leaves `only` empty (every device).
Status selected_names(const CliContext& ctx, Store& store, const BulkOptions& o, UnixTime now,
                      std::optional<std::unordered_set<std::string>>& only) {
    if (!selection_given(o)) return {};
    auto batch = selected(ctx, store, o, now);
    if (!batch) return batch.error();
    only.emplace();
    for (const auto& d : batch->devices) only->insert(d.name);
    return {};
}

// What the RADIUS nodes last saw, into `out` (an out-parameter: GCC 12
// misreports a moved Result<unordered_map>): --seen-file, else the PostgreSQL
// registry's lscgate.last_seen. A SQLite registry without --seen-file has none:
// an error when `required`, else a note and `out` left empty.
Status read_last_seen(const CliContext& ctx, const BulkOptions& o, const char* report, bool required,
                      std::optional<LastSeenIndex>& out) {
    auto cfg = ctx.config();
    if (!cfg) return cfg.error();
    if (o.seen_files.empty() && !is_postgresql_database(cfg->database_location())) {
        const std::string why = "a SQLite registry holds no last-seen: give each RADIUS node's last-seen file with "
                                "--seen-file FILE (the lscgate module's last_seen_database)";
        if (required) return fail(ErrorKind::Config, std::string("report ") + report + " reads what RADIUS saw, and " + why);
        std::cerr << "lscgate: note: the last-seen columns are empty: " << why << "\n";
        return {};
    }
    auto loaded = load_last_seen(cfg->database_location(), o.seen_files);
    if (!loaded) return loaded.error();
    out = std::move(*loaded);
    return {};
}



int run_lsc(CliContext& ctx, const ReportArgs& args) {
    auto format = report_format(ctx.json, args.csv);
    if (!format) return ctx.error(format.message());
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    const UnixTime now = now_utc();
    auto batch = selected(ctx, *store, args.selection, now);
    if (!batch) return ctx.error(batch.message());
    std::optional<LastSeenIndex> seen;
    if (auto s = read_last_seen(ctx, args.selection, "lsc", false, seen); !s) return ctx.error(s.message());
    // Made at the first row: an error found before it (an unknown device) prints no header.
    std::optional<ReportOutput> out;
    auto walked = each_lsc_report_row(*store, batch->devices, seen ? &*seen : nullptr, now,
                                      [&](const LscReportRow& r) -> Status {
                                          if (!out) out.emplace(*format, lsc_report_columns(), std::cout);
                                          out->row(lsc_report_json(r));
                                          return {};
                                      });
    if (!walked) return ctx.error(walked.message());
    if (!out) out.emplace(*format, lsc_report_columns(), std::cout);
    out->finish();
    return kExitOk;
}



int run_stale(CliContext& ctx, const ReportArgs& args) {
    auto format = report_format(ctx.json, args.csv);
    if (!format) return ctx.error(format.message());
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    const UnixTime now = now_utc();
    std::optional<std::unordered_set<std::string>> only;
    if (auto s = selected_names(ctx, *store, args.selection, now, only); !s) return ctx.error(s.message());
    auto stale = stale_lscs(*store, only ? &*only : nullptr, now);
    if (!stale) return ctx.error(stale.message());
    ReportOutput out(*format, stale_report_columns(), std::cout);
    for (const auto& s : *stale) out.row(stale_report_json(s));
    out.finish();
    if (stale->empty() && *format == ReportFormat::Text)
        std::cerr << "lscgate: no stale LSC: every LSC issued was confirmed by its phone\n";
    return kExitOk;
}



int run_foreign(CliContext& ctx, const ReportArgs& args) {
    auto format = report_format(ctx.json, args.csv);
    if (!format) return ctx.error(format.message());
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    const UnixTime now = now_utc();
    std::optional<std::unordered_set<std::string>> only;
    if (auto s = selected_names(ctx, *store, args.selection, now, only); !s) return ctx.error(s.message());
    std::optional<LastSeenIndex> seen;
    if (auto s = read_last_seen(ctx, args.selection, "foreign", true, seen); !s) return ctx.error(s.message());
    auto foreign = foreign_devices(*store, *seen, only ? &*only : nullptr);
    if (!foreign) return ctx.error(foreign.message());
    ReportOutput out(*format, foreign_report_columns(), std::cout);
    for (const auto& f : *foreign) out.row(foreign_report_json(f));
    out.finish();
    return kExitOk;
}

void add_report(CLI::App& report, CliContext& ctx, const char* name, const char* help, bool selection_required,
                int (*run)(CliContext&, const ReportArgs&)) {
    auto args = std::make_shared<ReportArgs>();
    auto* cmd = report.add_subcommand(name, help);
    add_bulk_options(*cmd, args->selection, true);
    cmd->remove_option(cmd->get_option("--dry-run"));  // a report changes nothing
    cmd->get_option("--seen-file")
        ->description("a RADIUS node's last-seen file (the module's last_seen_database), repeatable: the last-seen "
                      "columns and seen= on a SQLite registry");
    if (!selection_required) cmd->footer("Without NAME, --from, --where or --all: every device.");
    cmd->add_flag("--json", ctx.json, "print as JSON");
    cmd->add_flag("--csv", args->csv, "print as CSV: a header row, every field quoted (RFC 4180)");
    cmd->callback([&ctx, args, run] { ctx.exit_code = run(ctx, *args); });
}

// --- cert purge-stale -------------------------------------------------------------

struct PurgeArgs {
    std::string older_than = "7d";
    bool dry_run = false;
};

std::string purge_phrase(const StaleLsc& s) {
    std::string text = s.device + " LSC serial " + s.serial + " (unconfirmed since " + format_utc(s.issued_at) + ", " +
                       std::to_string(s.age_seconds / kDay) + " days";
    if (s.superseded_by) text += "; superseded by active serial " + *s.superseded_by;
    return text + ")";
}

// Renews the CRL after revocations; a failure is a warning, as for `lscgate revoke`.
void renew_crl_after_purge(CliContext& ctx) {
    auto crl = renew_crl(ctx, false);
    if (!crl)
        std::cerr << "lscgate: warning: the CRL was not renewed (" << crl.message()
                  << "); lscgate serve renews it within [crl] refresh seconds, or run 'lscgate crl'" << std::endl;
    else
        for (const auto& line : crl->unpublished) std::cerr << "lscgate: warning: " << line << std::endl;
}

int run_purge(CliContext& ctx, const PurgeArgs& args) {
    auto older = parse_duration_text(args.older_than);
    if (!older) return ctx.error("--older-than: " + older.message());
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    auto stale = stale_lscs(*store, nullptr, now_utc());
    if (!stale) return ctx.error(stale.message());
    const auto purge = purge_candidates(*stale, *older);
    JsonArrayWriter json(std::cout);
    int failures = 0, revoked = 0;
    for (const auto& s : purge) {
        nlohmann::json j = stale_report_json(s);
        if (args.dry_run) {
            j["action"] = "would-revoke";
            if (!ctx.json) std::cout << "would revoke " << purge_phrase(s) << "\n";
        } else if (auto r = purge_stale_lsc(*store, s, actor_name()); r) {
            ++revoked;
            j["action"] = "revoked";
            if (!ctx.json) std::cout << "revoked " << purge_phrase(s) << ", reason superseded\n";
        } else {
            ++failures;
            j["action"] = "failed";
            j["error"] = r.message();
            std::cerr << "lscgate: " << purge_phrase(s) << " not revoked: " << r.message() << "\n";
        }
        if (ctx.json) json.add(j);
    }
    if (ctx.json) json.finish();
    std::cerr << "lscgate: " << stale->size() << " unconfirmed LSC(s), " << purge.size() << " older than "
              << escape_nonprintable(args.older_than) << " or superseded"
              << (args.dry_run ? ": dry run, nothing was revoked" : ", " + std::to_string(revoked) + " revoked") << "\n";
    if (revoked > 0) renew_crl_after_purge(ctx);
    return failures > 0 ? kExitError : kExitOk;
}

}  // namespace

void add_report_command(CLI::App& app, CliContext& ctx) {
    auto* report = app.add_subcommand("report", "Fleet reports: LSC status per device, stale and foreign LSCs");
    report->require_subcommand(1);
    add_report(*report, ctx, "lsc",
               "Per device: LSC status (Installed / Not installed / Pending / Failed: cause), serial, issuer, "
               "not-after, days left, last RADIUS authentication, MIC-only",
               true, run_lsc);
    add_report(*report, ctx, "stale", "LSCs issued but never confirmed by the phone (CUCM's stale-lsc list)", false,
               run_stale);
    add_report(*report, ctx, "foreign", "Devices RADIUS last saw with an LSC from a CAPF the registry does not trust",
               false, run_foreign);
}

void add_cert_purge_stale_command(CLI::App& cert, CliContext& ctx) {
    auto args = std::make_shared<PurgeArgs>();
    auto* cmd = cert.add_subcommand(
        "purge-stale", "Revoke (reason superseded) unconfirmed LSCs older than --older-than or superseded by a newer "
                       "active LSC; RADIUS refuses them from the next request and the CRL lists them");
    cmd->add_option("--older-than", args->older_than, "age: 90s, 30m, 12h, 7d, 2w")->capture_default_str();
    cmd->add_flag("--dry-run", args->dry_run, "print what would be revoked, change nothing");
    cmd->add_flag("--json", ctx.json, "print as JSON");
    cmd->callback([&ctx, args] { ctx.exit_code = run_purge(ctx, *args); });
}

}  // namespace lscgate::cli
