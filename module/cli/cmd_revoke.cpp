#include "cli/commands.h"
#include "fleet/revocation.h"
#include "pki/printable.h"

#include <string_view>

namespace lscgate::cli {
namespace {

int run_revoke(CliContext& ctx, const std::string& name, const std::string& serial, const std::string& reason) {
    if (name.empty() == serial.empty()) return ctx.error("give either a device NAME or --serial S");
    // The same checks as the web device page's revoke form (fleet/revocation.h).
    if (auto s = check_revocation_reason(reason); !s) return ctx.error(s.message());
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    Result<CertificateRecord> revoked = fail("");
    if (!name.empty()) {
        revoked = revoke_device_lsc(*store, name, reason, actor_name());
    } else {
        auto hex = parse_serial_text(serial);
        if (!hex) return ctx.error(hex.message());
        revoked = store->revoke_serial(*hex, reason, actor_name());
    }
    if (!revoked) return ctx.error(revoked.message());
    // The revocation is done; a CRL that cannot be renewed here (no access to
    // the CAPF key) is renewed by lscgate serve at its next [crl] refresh.
    auto crl = renew_crl(ctx, false);
    if (!crl)
        std::cerr << "lscgate: warning: the CRL was not renewed (" << crl.message()
                  << "); lscgate serve renews it within [crl] refresh seconds, or run 'lscgate crl'" << std::endl;
    else
        for (const auto& line : crl->unpublished) std::cerr << "lscgate: warning: " << line << std::endl;
    if (ctx.json) {
        ctx.print_json({{"device", revoked->device_name},
                        {"serial", revoked->facts.serial_hex},
                        {"sha256", revoked->facts.sha256},
                        {"reason", reason},
                        {"revoked_at", format_utc(*revoked->revoked_at)},
                        {"crl_number", crl ? nlohmann::json(crl->number) : nlohmann::json(nullptr)}});
    } else {
        std::cout << "revoked " << to_string(revoked->kind) << " serial " << revoked->facts.serial_hex << " of "
                  << revoked->device_name << " (" << reason << "); RADIUS rejects it from the next authentication"
                  << std::endl;
        if (crl)
            std::cout << "CRL " << crl->number << " with " << crl->entries << " entries, next update "
                      << format_utc(crl->next_update) << std::endl;
    }
    return kExitOk;
}

}  // namespace

void add_revoke_command(CLI::App& app, CliContext& ctx) {
    auto* cmd = app.add_subcommand("revoke", "Revoke a device's active LSC, or a certificate by serial");
    auto name = std::make_shared<std::string>();
    auto serial = std::make_shared<std::string>();
    auto reason = std::make_shared<std::string>("unspecified");
    cmd->add_option("NAME", *name, "device whose active LSC is revoked");
    cmd->add_option("--serial", *serial, "certificate serial (hex, as 'cert list' shows it)");
    cmd->add_option("--reason", *reason,
                    "unspecified|key-compromise|ca-compromise|affiliation-changed|superseded|cessation-of-operation|privilege-withdrawn")
        ->capture_default_str();
    cmd->add_flag("--json", ctx.json, "print as JSON");
    cmd->callback([&ctx, name, serial, reason] { ctx.exit_code = run_revoke(ctx, *name, *serial, *reason); });
}

}  // namespace lscgate::cli
