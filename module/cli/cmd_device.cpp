#include "cli/bulk_source.h"
#include "cli/commands.h"
#include "cli/json_array_writer.h"
#include "pki/printable.h"
#include "registry/device_name.h"

namespace lscgate::cli {
namespace {

nlohmann::json device_json(const Device& d) {
    nlohmann::json j = {{"name", d.name},
                        {"model", d.model},
                        {"description", d.description},
                        {"auth_failures", d.auth_failures},
                        {"created_at", format_utc(d.created_at)},
                        {"updated_at", format_utc(d.updated_at)}};
    j["locked_until"] = d.locked_until ? nlohmann::json(format_utc(*d.locked_until)) : nlohmann::json(nullptr);
    return j;
}

int run_add(CliContext& ctx, const BulkOptions& bulk, const std::string& model, const std::string& description) {
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    // Every name is checked (and, from a file, located by its line) before any is added.
    auto batch = resolve_batch(ctx, *store, bulk, Registered::MustNotExist, {}, now_utc());
    if (!batch) return ctx.error(batch.message() + " (nothing was added)");
    // A row's own Device Type / Description (a BAT export) wins over --model / --description.
    std::vector<Store::NewDevice> devices;
    devices.reserve(batch->devices.size());
    for (const auto& d : batch->devices)
        devices.push_back({d.name, d.model.empty() ? model : d.model, d.description.empty() ? description : d.description});
    if (bulk.dry_run) {
        for (const auto& d : devices)
            std::cout << "would add " << d.name << (d.model.empty() ? "" : " model=" + quote_for_log(d.model))
                      << (d.description.empty() ? "" : " description=" + quote_for_log(d.description)) << "\n";
        std::cerr << "lscgate: dry run: " << devices.size() << " device(s); nothing was added\n";
        return kExitOk;
    }
    // Added in transactions of kBulkChunkRows, so a long list never holds the
    // writer lock for seconds (the CAPF server would time out recording an LSC).
    auto result = store->add_devices(devices, actor_name());
    if (ctx.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& d : result.done) out.push_back(device_json(d));
        ctx.print_json(out);
    } else {
        for (const auto& d : result.done) std::cout << "added " << d.name << "\n";
    }
    if (result.error) {
        const std::size_t left = devices.size() - result.done.size();
        // A name another writer added meanwhile is pointed at by its input line.
        const std::string where = result.failed_at ? batch->where(batch->devices[*result.failed_at]) : std::string();
        return ctx.error(where + result.error->message + (result.done.empty() ? " (nothing was added)"
                                                                       : " (" + std::to_string(result.done.size()) +
                                                                             " added as shown, " + std::to_string(left) +
                                                                             " not)"));
    }
    return kExitOk;
}

// Streams: each device is printed as it is read (constant memory over any registry size).
int run_list(CliContext& ctx) {
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    JsonArrayWriter json(std::cout);
    if (!ctx.json)
        std::printf("%-20s %-12s %-22s %-12s %s\n", "DEVICE", "MODEL", "LSC VALID UNTIL", "PENDING", "DESCRIPTION");
    auto walked = store->each_device([&](const Device& d) -> Status {
        auto lsc = store->active_lsc(d.name);
        if (!lsc) return lsc.error();
        auto op = store->open_operation(d.id);
        if (!op) return op.error();
        if (ctx.json) {
            auto j = device_json(d);
            j["lsc_serial"] = lsc->has_value() ? nlohmann::json((*lsc)->facts.serial_hex) : nlohmann::json(nullptr);
            j["pending_operation"] = op->has_value() ? nlohmann::json(std::string(to_string((*op)->request.kind)))
                                                     : nlohmann::json(nullptr);
            json.add(j);
            return {};
        }
        // Model and description may come from a BAT file: escaped, so a control
        // character cannot rewrite the terminal or split the row.
        std::printf("%-20s %-12s %-22s %-12s %s\n", d.name.c_str(), d.model.empty() ? "-" : escape_nonprintable(d.model).c_str(),
                    lsc->has_value() ? format_utc((*lsc)->facts.not_after).c_str() : "no LSC",
                    op->has_value() ? std::string(to_string((*op)->request.kind)).c_str() : "-",
                    escape_nonprintable(d.description).c_str());
        return {};
    });
    if (!walked) return ctx.error(walked.message());
    if (ctx.json) json.finish();
    return kExitOk;
}

int run_show(CliContext& ctx, const std::string& raw) {
    auto name = normalize_device_name(raw);
    if (!name) return ctx.error(name.message());
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    auto d = store->find_device(*name);
    if (!d) return ctx.error(d.message());
    if (!d->has_value()) return ctx.error("no such device: " + *name);
    auto ops = store->list_operations(*name, true);
    auto certs = store->list_certificates(*name);
    if (!ops) return ctx.error(ops.message());
    const UnixTime now = now_utc();
    for (auto& o : *ops) o.state = effective_state(o, now);  // in-progress past its deadline: timed-out
    if (!certs) return ctx.error(certs.message());
    if (ctx.json) {
        auto j = device_json(**d);
        j["operations"] = nlohmann::json::array();
        for (const auto& o : *ops)
            j["operations"].push_back({{"id", o.id},
                                       {"kind", std::string(to_string(o.request.kind))},
                                       {"auth", std::string(to_string(o.request.auth_mode))},
                                       {"key", o.request.key.to_string()},
                                       {"state", std::string(to_string(o.state))},
                                       {"last_error", o.last_error}});
        j["certificates"] = nlohmann::json::array();
        for (const auto& c : *certs)
            j["certificates"].push_back({{"kind", std::string(to_string(c.kind))},
                                         {"serial", c.facts.serial_hex},
                                         {"status", std::string(to_string(c.status))},
                                         {"not_before", format_utc(c.facts.not_before)},
                                         {"not_after", format_utc(c.facts.not_after)},
                                         {"sha256", c.facts.sha256}});
        ctx.print_json(j);
        return kExitOk;
    }
    const Device& dev = **d;
    std::cout << dev.name << "\n  model        " << (dev.model.empty() ? "-" : escape_nonprintable(dev.model))
              << "\n  description  " << (dev.description.empty() ? "-" : escape_nonprintable(dev.description))
              << "\n  added        " << format_utc(dev.created_at)
              << "\n  auth failures " << dev.auth_failures;
    if (dev.locked_until && *dev.locked_until > now_utc()) std::cout << " (locked until " << format_utc(*dev.locked_until) << ")";
    std::cout << "\noperations:\n";
    if (ops->empty()) std::cout << "  none\n";
    for (const auto& o : *ops)
        std::cout << "  #" << o.id << " " << to_string(o.request.kind) << " auth=" << to_string(o.request.auth_mode)
                  << " key=" << o.request.key.to_string() << " state=" << to_string(o.state)
                  << (o.request.completes_by ? " by=" + format_utc(*o.request.completes_by) : "")
                  << (o.last_error.empty() ? "" : " error=\"" + o.last_error + "\"") << "\n";
    std::cout << "certificates:\n";
    if (certs->empty()) std::cout << "  none\n";
    for (const auto& c : *certs)
        std::cout << "  " << to_string(c.kind) << " " << c.facts.serial_hex << " " << to_string(c.status) << " from "
                  << format_utc(c.facts.not_before) << " until " << format_utc(c.facts.not_after) << "\n";
    std::cout.flush();
    return kExitOk;
}

int run_remove(CliContext& ctx, const BulkOptions& bulk) {
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    auto batch = resolve_batch(ctx, *store, bulk, Registered::MustExist, {}, now_utc());
    if (!batch) return ctx.error(batch.message() + " (nothing was removed)");
    if (bulk.dry_run) {
        for (const auto& d : batch->devices) std::cout << "would remove " << d.name << "\n";
        std::cerr << "lscgate: dry run: " << batch->devices.size() << " device(s); nothing was removed\n";
        return kExitOk;
    }
    // The batch was checked whole (one unknown name removes none); written in
    // transactions of kBulkChunkRows so the CAPF server never waits seconds.
    std::vector<std::string> names;
    for (const auto& d : batch->devices) names.push_back(d.name);
    auto result = store->remove_devices(names, actor_name());
    for (const auto& n : result.done) std::cout << "removed " << n << " (its certificates stay in the registry)\n";
    if (result.error)
        return ctx.error((result.failed_at ? batch->where(batch->devices[*result.failed_at]) : std::string()) +
                         result.error->message + (result.done.empty() ? " (nothing was removed)"
                                                                       : " (" + std::to_string(result.done.size()) +
                                                                             " removed as shown, " +
                                                                             std::to_string(names.size() - result.done.size()) + " not)"));
    return kExitOk;
}

}  // namespace

void add_device_command(CLI::App& app, CliContext& ctx) {
    auto* device = app.add_subcommand("device", "Phones known to the CAPF");
    device->require_subcommand(1);

    auto add_args = std::make_shared<BulkOptions>();
    auto model = std::make_shared<std::string>();
    auto description = std::make_shared<std::string>();
    auto* add = device->add_subcommand("add", "Add one or more devices (SEP + MAC)");
    add_bulk_options(*add, *add_args, false);
    add->add_option("--model", *model, "phone model, e.g. CP-8841 (a file's Device Type column wins)");
    add->add_option("--description", *description, "free text (a file's Description column wins)");
    add->add_flag("--json", ctx.json, "print as JSON");
    add->callback([&ctx, add_args, model, description] { ctx.exit_code = run_add(ctx, *add_args, *model, *description); });

    auto* list = device->add_subcommand("list", "List devices with their LSC and pending operation");
    list->add_flag("--json", ctx.json, "print as JSON");
    list->callback([&ctx] { ctx.exit_code = run_list(ctx); });

    auto show_name = std::make_shared<std::string>();
    auto* show = device->add_subcommand("show", "Show one device, its operations and certificates");
    show->add_option("NAME", *show_name, "device name")->required();
    show->add_flag("--json", ctx.json, "print as JSON");
    show->callback([&ctx, show_name] { ctx.exit_code = run_show(ctx, *show_name); });

    auto remove_args = std::make_shared<BulkOptions>();
    auto* remove = device->add_subcommand("remove", "Remove devices (their certificates stay recorded)");
    add_bulk_options(*remove, *remove_args, true);
    remove->callback([&ctx, remove_args] { ctx.exit_code = run_remove(ctx, *remove_args); });

    add_device_seen_command(*device, ctx);
}

}  // namespace lscgate::cli
