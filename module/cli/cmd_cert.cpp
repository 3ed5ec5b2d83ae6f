#include "cli/commands.h"
#include "cli/json_array_writer.h"
#include "registry/device_name.h"

namespace lscgate::cli {
namespace {

int run_list(CliContext& ctx, const std::string& device) {
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    std::optional<std::string> filter;
    if (!device.empty()) {
        auto n = normalize_device_name(device);
        if (!n) return ctx.error(n.message());
        filter = *n;
    }
    JsonArrayWriter json(std::cout);
    if (!ctx.json)
        std::printf("%-18s %-4s %-32s %-11s %-21s %-21s %-9s %s\n", "DEVICE", "KIND", "SERIAL", "STATUS", "NOT BEFORE",
                    "NOT AFTER", "KEY", "SHA-256");
    // Streams: each certificate is printed as it is read.
    auto walked = store->each_certificate(filter, [&](const CertificateRecord& c) -> Status {
        const std::string key = c.facts.key_type + ":" + std::to_string(c.facts.key_bits);
        if (ctx.json) {
            json.add({{"device", c.device_name},
                      {"kind", std::string(to_string(c.kind))},
                      {"serial", c.facts.serial_hex},
                      {"sha256", c.facts.sha256},
                      {"subject", c.facts.subject},
                      {"issuer", c.facts.issuer},
                      {"status", std::string(to_string(c.status))},
                      {"not_before", format_utc(c.facts.not_before)},
                      {"not_after", format_utc(c.facts.not_after)},
                      {"key", key}});
            return {};
        }
        std::printf("%-18s %-4s %-32s %-11s %-21s %-21s %-9s %s\n", c.device_name.c_str(),
                    std::string(to_string(c.kind)).c_str(), c.facts.serial_hex.c_str(),
                    std::string(to_string(c.status)).c_str(), format_utc(c.facts.not_before).c_str(),
                    format_utc(c.facts.not_after).c_str(), key.c_str(), c.facts.sha256.c_str());
        return {};
    });
    if (!walked) return ctx.error(walked.message());
    if (ctx.json) json.finish();
    return kExitOk;
}

}  // namespace

void add_cert_command(CLI::App& app, CliContext& ctx) {
    auto* cert = app.add_subcommand("cert", "Certificates issued or fetched");
    cert->require_subcommand(1);
    auto device = std::make_shared<std::string>();
    auto* list = cert->add_subcommand("list", "List certificates (serial in hex, SHA-256, status, not-before, not-after)");
    list->add_option("--device", *device, "only this device");
    list->add_flag("--json", ctx.json, "print as JSON");
    list->callback([&ctx, device] { ctx.exit_code = run_list(ctx, *device); });
    add_cert_purge_stale_command(*cert, ctx);
    add_cert_adopt_command(*cert, ctx);
}

}  // namespace lscgate::cli
