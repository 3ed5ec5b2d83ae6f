#include "cli/commands.h"
#include "cli/revoke_coa.h"
#include "fleet/revocation.h"
#include "pki/printable.h"

#include <ctime>

namespace lscgate::cli {
namespace {

// The CoA flags of `revoke`: --disconnect / --no-disconnect override [coa] on_revoke.
struct CoaFlags {
    bool disconnect = false;
    bool no_disconnect = false;
    std::string mode;                    // --coa-mode, "" = [coa] mode
    std::vector<std::string> last_seen;  // --last-seen FILE
};

// After a committed revoke: the CoA to the device's NAS when asked for (flag or
// [coa] on_revoke). Prints a line per NAS (text) or returns them (`json` gets
// "coa"); returns the exit code: 0 when every NAS answered ACK (or none had a
// session), kExitCoaNotAcked otherwise — the revocation stays committed either way.
int revoke_coa(CliContext& ctx, const std::string& device, const CoaFlags& flags, nlohmann::json& json) {
    if (flags.no_disconnect) return kExitOk;
    auto cfg = ctx.config();
    if (!cfg) {
        std::cerr << "lscgate: CoA not sent: " << cfg.message() << std::endl;
        return kExitCoaNotAcked;
    }
    if (!flags.disconnect && !cfg->coa_on_revoke) return kExitOk;
    RevokeCoaOptions options;
    if (!flags.mode.empty()) options.mode = parse_coa_mode(flags.mode);
    options.last_seen = flags.last_seen;
    const auto result = send_revoke_coa(*cfg, device, options, static_cast<std::int64_t>(std::time(nullptr)));
    json = {{"results", result.json},
            {"error", result.error ? nlohmann::json(result.error->message) : nlohmann::json(nullptr)}};
    if (!ctx.json)
        for (const auto& line : result.lines) std::cout << line << std::endl;
    if (result.error) {
        std::cerr << "lscgate: CoA not sent: " << result.error->message << std::endl;
        std::cerr << "lscgate: the revocation of " << escape_nonprintable(device)
                  << " is committed; its session ends only when the phone re-authenticates" << std::endl;
        return kExitCoaNotAcked;
    }
    if (result.not_acked == 0) return kExitOk;
    std::cerr << "lscgate: the revocation of " << escape_nonprintable(device) << " is committed; " << result.not_acked
              << " of " << result.targets << " NAS did not acknowledge the CoA: the phone keeps that session until it "
              << "re-authenticates, and RADIUS then refuses it" << std::endl;
    return kExitCoaNotAcked;
}

int run_revoke(CliContext& ctx, const std::string& name, const std::string& serial, const std::string& reason,
               const CoaFlags& coa_flags) {
    if (coa_flags.disconnect && coa_flags.no_disconnect) return ctx.error("give --disconnect or --no-disconnect, not both");
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
    if (!ctx.json) {
        std::cout << "revoked " << to_string(revoked->kind) << " serial " << revoked->facts.serial_hex << " of "
                  << revoked->device_name << " (" << reason << "); RADIUS rejects it from the next authentication"
                  << std::endl;
        if (crl)
            std::cout << "CRL " << crl->number << " with " << crl->entries << " entries, next update "
                      << format_utc(crl->next_update) << std::endl;
    }
    nlohmann::json coa = nullptr;
    const int rc = revoke_coa(ctx, revoked->device_name, coa_flags, coa);
    if (ctx.json) {
        ctx.print_json({{"device", revoked->device_name},
                        {"serial", revoked->facts.serial_hex},
                        {"sha256", revoked->facts.sha256},
                        {"reason", reason},
                        {"revoked_at", format_utc(*revoked->revoked_at)},
                        {"crl_number", crl ? nlohmann::json(crl->number) : nlohmann::json(nullptr)},
                        {"coa", coa}});
    }
    return rc;
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
    auto coa = std::make_shared<CoaFlags>();
    cmd->add_flag("--disconnect", coa->disconnect,
                  "then end the phone's session: an RFC 5176 CoA to each switch it was last seen through ([coa])");
    cmd->add_flag("--no-disconnect", coa->no_disconnect, "no CoA, even with [coa] on_revoke = true");
    cmd->add_option("--coa-mode", coa->mode, "reauthenticate (CoA-Request) | disconnect (Disconnect-Request); default [coa] mode")
        ->check(CLI::IsMember({"reauthenticate", "disconnect"}));
    cmd->add_option("--last-seen", coa->last_seen,
                    "a RADIUS node's SQLite last-seen file (the module's last_seen_database); default [coa] last_seen");
    cmd->add_flag("--json", ctx.json, "print as JSON");
    cmd->callback([&ctx, name, serial, reason, coa] { ctx.exit_code = run_revoke(ctx, *name, *serial, *reason, *coa); });
}

}  // namespace lscgate::cli
