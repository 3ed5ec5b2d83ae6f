// lscgate: the administrator's command line (see README.md for every command).

#include "cli/commands.h"

#include <cstdlib>
#include <exception>
#include <iostream>

int main(int argc, char** argv) {
    using namespace lscgate::cli;
    CliContext ctx;
    CLI::App app{"lscgate: CAPF issuer and LSC registry for Cisco IP phones"};
    app.require_subcommand(1);
    app.fallthrough();
    const char* env_dir = std::getenv("LSCGATE_DIR");
    ctx.dir = env_dir != nullptr ? env_dir : "/var/lib/lscgate";
    app.add_option("--dir", ctx.dir, "lscgate directory (config, CAPF key, database); default $LSCGATE_DIR or /var/lib/lscgate");
    app.add_option("--database", ctx.database,
                   "registry: SQLite file or PostgreSQL URI/conninfo; overrides $LSCGATE_DATABASE and [store] database");
    app.set_version_flag("--version", "lscgate 0.1.0");

    add_init_command(app, ctx);
    add_capf_command(app, ctx);
    add_serve_command(app, ctx);
    add_device_command(app, ctx);
    add_op_command(app, ctx);
    add_rollout_command(app, ctx);
    add_cert_command(app, ctx);
    add_phone_command(app, ctx);
    add_audit_command(app, ctx);
    add_revoke_command(app, ctx);
    add_registry_command(app, ctx);
    add_itl_command(app, ctx);
    add_doctor_command(app, ctx);
    add_crl_command(app, ctx);
    add_check_command(app, ctx);
    add_report_command(app, ctx);
    add_web_command(app, ctx);
    add_admin_command(app, ctx);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        // `check` is run by monitoring systems, for which 1 means WARNING: a usage
        // error there is UNKNOWN (3), as the monitoring-plugin guidelines say.
        if (rc != 0 && app.get_subcommand("check")->parsed()) return 3;
        return rc == 0 ? 0 : kExitError;
    } catch (const std::exception& e) {
        // Whatever a command let escape (bad_alloc, a JSON dump of bytes that are
        // not UTF-8): a clear error and the command's failure code, never abort().
        std::cerr << "lscgate: internal error: " << e.what() << "\n";
        const auto* check = app.get_subcommand("check");
        return check != nullptr && check->parsed() ? 3 : kExitError;
    }
    return ctx.exit_code;
}
