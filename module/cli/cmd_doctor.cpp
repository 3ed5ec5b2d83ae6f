// lscgate doctor [--device NAME [--last-seen FILE]] [--itl FILE] [--capf-host NAME] [--raddb DIR] [--json]: runs
// the checks of doctor_checks.h and prints each finding as symptom / cause / fix.
// Exit code 0 nothing wrong, 1 warnings, 2 failures (README, Troubleshooting).

#include "cli/commands.h"
#include "cli/doctor_checks.h"

namespace lscgate::cli {
namespace {

struct DoctorArgs {
    std::string device;
    std::string itl;
    std::string capf_host;
    std::string raddb;
    std::string last_seen;
    bool skip_serve = false;
};

int run_doctor(CliContext& ctx, const DoctorArgs& args) {
    doctor::Report report;
    auto cfg = ctx.config();
    if (!cfg) {
        report.fail("config", "(nothing can run: 'lscgate serve' does not start either)", cfg.message(),
                    "run 'lscgate init --dir DIR' or fix lscgate.toml");
    } else {
        const UnixTime now = now_utc();
        doctor::check_capf_certificate(*cfg, now, report);
        doctor::check_kept_capf_keys(*cfg, report);
        if (!args.skip_serve) doctor::check_serve(*cfg, report);
        if (!args.capf_host.empty()) doctor::check_capf_host(*cfg, args.capf_host, report);
        if (!args.itl.empty()) doctor::check_itl(*cfg, args.itl, report);
        if (!args.device.empty()) doctor::check_device(*cfg, args.device, {args.last_seen, args.raddb}, now, report);
        if (!args.raddb.empty()) doctor::check_raddb(*cfg, args.raddb, now, report);
    }
    if (ctx.json) ctx.print_json(report.to_json());
    else std::cout << report.to_text() << std::flush;
    return report.exit_code();
}

}  // namespace

void add_doctor_command(CLI::App& app, CliContext& ctx) {
    auto* cmd = app.add_subcommand("doctor", "Name what stops phones from enrolling: symptom, cause, fix "
                                             "(exit 0 nothing wrong, 1 warnings, 2 failures)");
    auto args = std::make_shared<DoctorArgs>();
    cmd->add_option("--device", args->device, "a phone: registry state, operation, deadline, lockout, recent operations, "
                                              "LSC, and whether RADIUS last saw its LSC or its MIC");
    cmd->add_option("--last-seen", args->last_seen, "with --device: a RADIUS node's last-seen file (the module's "
                                                    "last_seen_database; default: from --raddb, or the PostgreSQL registry)");
    cmd->add_option("--itl", args->itl, "the ITLFile.tlv (or CTL) the phones get: signature and CAPF record");
    cmd->add_option("--capf-host", args->capf_host, "the CAPF host name the phones are given: A/AAAA and where serve listens");
    cmd->add_option("--raddb", args->raddb, "a FreeRADIUS configuration directory (/etc/freeradius/3.0): the EAP-TLS traps");
    cmd->add_flag("--no-serve", args->skip_serve, "do not connect to 'lscgate serve' ([server] listen)");
    cmd->add_flag("--json", ctx.json, "JSON output");
    cmd->callback([&ctx, args] { ctx.exit_code = run_doctor(ctx, *args); });
}

}  // namespace lscgate::cli
