// `lscgate audit`: the trail newest first; `audit verify`: its hash chain
// (registry/audit_chain.h); `audit export`: every row with its hashes as JSON,
// for a SIEM.

#include "cli/commands.h"
#include "cli/json_array_writer.h"
#include "pki/certificate.h"

#include <memory>

namespace lscgate::cli {
namespace {

nlohmann::json export_row(const AuditEvent& e) {
    return {{"id", e.id},          {"at", format_utc(e.at)}, {"at_unix", e.at},
            {"actor", e.actor},    {"action", e.action},     {"device", e.device},
            {"detail", e.detail},  {"prev_hash", e.prev_hash}, {"hash", e.hash}};
}

void show_trail(CliContext& ctx, int limit) {
    auto store = ctx.store();
    if (!store) {
        ctx.error(store.message());
        return;
    }
    JsonArrayWriter json(std::cout);
    auto walked = store->each_audit_event(limit, [&](const AuditEvent& e) -> Status {
        if (ctx.json)
            json.add({{"at", format_utc(e.at)}, {"actor", e.actor}, {"action", e.action}, {"device", e.device}, {"detail", e.detail}});
        else
            std::cout << format_utc(e.at) << " " << e.actor << " " << e.action << " " << (e.device.empty() ? "-" : e.device)
                      << " " << e.detail << "\n";
        return {};
    });
    if (!walked) {
        ctx.error(walked.message());
        return;
    }
    if (ctx.json) json.finish();
    std::cout.flush();
}

bool is_sha256_hex(const std::string& s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

int run_verify(CliContext& ctx, const std::string& anchor) {
    if (!anchor.empty() && !is_sha256_hex(anchor))
        return ctx.error("--anchor wants a row hash: 64 lower-case hex digits (from audit verify or audit export)");
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    auto report = store->verify_audit(anchor.empty() ? std::nullopt : std::optional<std::string>(anchor));
    if (!report) return ctx.error(report.message());
    if (ctx.json) {
        nlohmann::json j = {{"intact", report->intact()},
                            {"rows", report->rows},
                            {"head_id", report->head_id},
                            {"head_hash", report->head_hash}};
        if (report->broken)
            j["broken"] = {{"row", report->broken->row_number}, {"id", report->broken->id}, {"what", report->broken->what}};
        ctx.print_json(j);
    } else if (report->intact()) {
        std::cout << "audit chain intact: " << report->rows << " rows, head id " << report->head_id << " sha256 "
                  << report->head_hash << std::endl;
    } else {
        const auto& b = *report->broken;
        std::cout << "audit chain BROKEN at row " << b.row_number;
        if (b.id != 0) std::cout << " (id " << b.id << ")";
        std::cout << ": " << b.what << std::endl;
    }
    return report->intact() ? kExitOk : kExitTampered;
}

int run_export(CliContext& ctx, std::int64_t after, bool lines) {
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    JsonArrayWriter array(std::cout);
    auto walked = store->each_audit_row(after, [&](const AuditEvent& e) -> Status {
        if (lines) std::cout << json_text(export_row(e)) << '\n';
        else array.add(export_row(e));
        return {};
    });
    if (!walked) return ctx.error(walked.message());
    if (!lines) array.finish();
    std::cout.flush();
    return kExitOk;
}

}  // namespace

void add_audit_command(CLI::App& app, CliContext& ctx) {
    auto* audit = app.add_subcommand("audit", "Show the audit trail, newest first; verify or export its hash chain");
    auto limit = std::make_shared<int>(50);
    audit->add_option("--limit", *limit, "how many events")->capture_default_str()->check(CLI::Range(1, 100000));
    audit->add_flag("--json", ctx.json, "print as JSON");
    audit->callback([&ctx, audit, limit] {
        if (!audit->get_subcommands().empty()) return;  // verify / export ran
        show_trail(ctx, *limit);
    });

    auto* verify = audit->add_subcommand(
        "verify", "Check the audit trail's hash chain; name the first edited, deleted, inserted or reordered row "
                  "(exit code 3 when broken)");
    auto anchor = std::make_shared<std::string>();
    verify->add_option("--anchor", *anchor, "a head hash recorded earlier (e.g. by your SIEM) that must still be in the chain");
    verify->add_flag("--json", ctx.json, "print as JSON");
    verify->callback([&ctx, anchor] { ctx.exit_code = run_verify(ctx, *anchor); });

    auto* exp = audit->add_subcommand("export", "Every audit row, oldest first, with its hashes, as JSON (for a SIEM)");
    auto after = std::make_shared<std::int64_t>(0);
    auto lines = std::make_shared<bool>(false);
    exp->add_flag("--json", ctx.json, "JSON (the default and only format)");
    exp->add_flag("--lines", *lines, "JSON Lines: one object per line instead of one array");
    exp->add_option("--after", *after, "only rows with a larger id (incremental export)")->check(CLI::NonNegativeNumber);
    exp->callback([&ctx, after, lines] { ctx.exit_code = run_export(ctx, *after, *lines); });
}

}  // namespace lscgate::cli
