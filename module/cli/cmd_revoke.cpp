#include "cli/commands.h"
#include "registry/device_name.h"
#include "pki/presented_certificate.h"
#include "pki/printable.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

namespace lscgate::cli {
namespace {

// RFC 5280 CRLReason names, spelled the way administrators type them.
constexpr std::array<const char*, 7> kReasons = {"unspecified",         "key-compromise", "ca-compromise",
                                                  "affiliation-changed", "superseded",     "cessation-of-operation",
                                                  "privilege-withdrawn"};

int run_revoke(CliContext& ctx, const std::string& name, const std::string& serial, const std::string& reason) {
    if (name.empty() == serial.empty()) return ctx.error("give either a device NAME or --serial S");
    if (std::find(kReasons.begin(), kReasons.end(), reason) == kReasons.end()) {
        std::string all;
        for (const char* r : kReasons) all += (all.empty() ? "" : "|") + std::string(r);
        return ctx.error("invalid --reason '" + escape_nonprintable(reason) + "': " + all);
    }
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    Result<CertificateRecord> revoked = fail("");
    if (!name.empty()) {
        auto device = normalize_device_name(name);
        if (!device) return ctx.error(device.message());
        auto known = store->find_device(*device);
        if (!known) return ctx.error(known.message());
        if (!known->has_value()) return ctx.error("no such device: " + *device + " (lscgate device list)");
        revoked = store->revoke_active_lsc(*device, reason, actor_name());
    } else {
        // Hex digits, optionally ':'-separated or 0x-prefixed, as openssl and 'cert list' print
        // them; anything else is refused rather than silently dropped by normalize_serial().
        const std::string_view digits = serial.rfind("0x", 0) == 0 ? std::string_view(serial).substr(2) : serial;
        const bool hex_only = std::all_of(digits.begin(), digits.end(), [](char c) {
            return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':';
        });
        const std::string hex = hex_only ? normalize_serial(serial) : std::string();
        if (hex.empty()) return ctx.error("invalid --serial '" + escape_nonprintable(serial) + "': expected hex");
        revoked = store->revoke_serial(hex, reason, actor_name());
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
