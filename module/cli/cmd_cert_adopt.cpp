// `lscgate cert adopt NAME... | --all-fetched [--dry-run] [--json]` (issue 10
// item 8): makes each device's fetched LSC its active LSC when it chains to a
// CAPF the registry trusts and is valid now (fleet/lsc_adopt.h), so RADIUS
// accepts it as lsc-valid without the phone generating a new key. The store
// audits each adoption. Exit 0 every device adopted, 2 one was refused (the
// others are adopted), 1 an error.

#include "cli/commands.h"
#include "cli/json_array_writer.h"
#include "fleet/lsc_adopt.h"
#include "pki/printable.h"
#include "registry/device_name.h"

#include <memory>

namespace lscgate::cli {
namespace {

struct AdoptArgs {
    std::vector<std::string> names;
    bool all_fetched = false;
    bool dry_run = false;
};

// The devices to act on: the names (normalized, each registered), or every device with a fetched LSC.
Result<std::vector<std::string>> adopt_targets(Store& store, const AdoptArgs& args) {
    if (args.names.empty() == !args.all_fetched)
        return fail(ErrorKind::Input, "name the devices (NAME...) or give --all-fetched, not both");
    if (args.all_fetched) {
        auto all = devices_with_fetched_lsc(store);
        if (!all) return all.error();
        // A removed device keeps its certificate rows; it gets no active LSC.
        std::vector<std::string> registered;
        for (const auto& n : *all) {
            auto known = store.find_device(n);
            if (!known) return known.error();
            if (known->has_value()) registered.push_back(n);
            else std::cerr << "lscgate: note: " << n << " has a fetched LSC but is no longer registered; skipped\n";
        }
        if (registered.empty())
            return fail(ErrorKind::Input, "no device has a fetched LSC: schedule 'lscgate op fetch' for the phones first");
        return registered;
    }
    auto names = normalize_device_names(args.names);
    if (!names) return names.error();
    for (const auto& n : names->names) {
        auto known = store.find_device(n);
        if (!known) return known.error();
        if (!known->has_value()) return fail(ErrorKind::Input, "no such device: " + n + " (lscgate device list)");
    }
    return names->names;
}

nlohmann::json adoption_json(const std::string& device, const AdoptionCheck& check, const std::string& action) {
    nlohmann::json j = {{"device", device}, {"action", action}};
    if (check.certificate) {
        const CertificateFacts& f = check.certificate->facts;
        j["serial"] = f.serial_hex;
        j["sha256"] = f.sha256;
        j["issuer"] = f.issuer;
        j["not_after"] = format_utc(f.not_after);
    }
    j["refused"] = check.refused.empty() ? nlohmann::json(nullptr) : nlohmann::json(check.refused);
    return j;
}

std::string lsc_phrase(const CertificateRecord& c) {
    return "LSC serial " + c.facts.serial_hex + " (issuer " + c.facts.issuer + ", valid until " +
           format_utc(c.facts.not_after) + ")";
}

// Checks and adopts one device; prints its line. Returns the action taken:
// adopted / would-adopt / refused, or an error.
Result<std::string> adopt_one(CliContext& ctx, Store& store, const TrustSet& trust, const std::string& device,
                              const AdoptArgs& args, UnixTime now, JsonArrayWriter& json) {
    auto check = check_adoption(store, trust, device, now);
    if (!check) return check.error();
    std::string action = !check->refused.empty() ? "refused" : args.dry_run ? "would-adopt" : "adopted";
    if (action == "adopted") {
        auto adopted = store.adopt_fetched_lsc(check->certificate->id, actor_name());
        if (!adopted) return fail(adopted.kind(), device + ": " + adopted.message());
    }
    if (ctx.json) {
        json.add(adoption_json(device, *check, action));
    } else if (action == "refused") {
        std::cout << "refused " << device << ": " << escape_nonprintable(check->refused) << "\n";
    } else {
        std::cout << (action == "adopted" ? "adopted " : "would adopt ") << device << " "
                  << escape_nonprintable(lsc_phrase(*check->certificate))
                  << (action == "adopted" ? ": its active LSC now; RADIUS accepts it as lsc-valid from the next request"
                                          : "")
                  << "\n";
    }
    return action;
}

int run_adopt(CliContext& ctx, const AdoptArgs& args) {
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    auto targets = adopt_targets(*store, args);
    if (!targets) return ctx.error(targets.message() + " (nothing was adopted)");
    auto trust = registry_capf_trust(*store);
    if (!trust) return ctx.error(trust.message() + " (nothing was adopted)");
    const UnixTime now = now_utc();
    JsonArrayWriter json(std::cout);
    int adopted = 0, refused = 0;
    for (const auto& device : *targets) {
        auto action = adopt_one(ctx, *store, *trust, device, args, now, json);
        if (!action) {
            if (ctx.json) json.finish();
            return ctx.error(action.message() + " (" + std::to_string(adopted) + " adopted before it)");
        }
        if (*action == "refused") ++refused;
        else if (*action == "adopted") ++adopted;
    }
    if (ctx.json) json.finish();
    std::cerr << "lscgate: " << targets->size() << " device(s): "
              << (args.dry_run ? "dry run, nothing was adopted" : std::to_string(adopted) + " adopted") << ", "
              << refused << " refused\n";
    return refused > 0 ? kExitRefused : kExitOk;
}

}  // namespace

void add_cert_adopt_command(CLI::App& cert, CliContext& ctx) {
    auto args = std::make_shared<AdoptArgs>();
    auto* cmd = cert.add_subcommand(
        "adopt", "Make a fetched LSC (op fetch) the device's active LSC when it chains to a trusted CAPF (current or "
                 "previous) and is valid: migrating from another CAPF without re-keying");
    cmd->add_option("NAME", args->names, "device names");
    cmd->add_flag("--all-fetched", args->all_fetched, "every device with a fetched LSC");
    cmd->add_flag("--dry-run", args->dry_run, "check and print what would be adopted, change nothing");
    cmd->add_flag("--json", ctx.json, "print as JSON");
    cmd->callback([&ctx, args] { ctx.exit_code = run_adopt(ctx, *args); });
}

}  // namespace lscgate::cli
