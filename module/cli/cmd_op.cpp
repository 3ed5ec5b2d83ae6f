#include "cli/bulk_source.h"
#include "cli/commands.h"
#include "cli/json_array_writer.h"
#include "fleet/operation_request.h"
#include "registry/device_name.h"
#include "pki/printable.h"
#include "pki/time_text.h"

namespace lscgate::cli {
namespace {

struct OpArgs {
    BulkOptions bulk;
    std::string auth = "null";
    std::string key = "rsa:2048";
    std::string by;
    bool allow_weak_key = false;
};

// Prints what was scheduled (text or JSON), with each generated authentication string.
void print_scheduled(CliContext& ctx, OperationKind kind, const OperationRequest& req, const std::vector<Operation>& done,
                     const std::vector<std::string>& digits_of, bool generate) {
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t i = 0; i < done.size(); ++i) {
        const Operation& op = done[i];
        nlohmann::json j = {{"device", op.device_name},
                            {"id", op.id},
                            {"operation", std::string(to_string(kind))},
                            {"auth", std::string(to_string(op.request.auth_mode))},
                            {"key", op.request.key.to_string()},
                            {"completes_by", op.request.completes_by ? nlohmann::json(format_utc(*op.request.completes_by))
                                                                     : nlohmann::json(nullptr)}};
        if (generate) j["auth_string"] = digits_of[i];
        out.push_back(j);
    }
    if (ctx.json) ctx.print_json(out);
    else
        for (std::size_t i = 0; i < done.size(); ++i) {
            std::cout << "scheduled " << to_string(kind) << " for " << done[i].device_name
                      << ": auth=" << to_string(req.auth_mode) << " key=" << req.key.to_string()
                      << (req.completes_by ? " completes-by=" + format_utc(*req.completes_by) : "");
            if (generate) std::cout << " auth-string=" << digits_of[i];
            std::cout << "\n";
        }
}

// --dry-run: what would be scheduled, nothing written (no string generated either).
void print_would_schedule(CliContext& ctx, OperationKind kind, const OperationRequest& req, const DeviceBatch& batch) {
    const auto by = req.completes_by ? nlohmann::json(format_utc(*req.completes_by)) : nlohmann::json(nullptr);
    if (ctx.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& d : batch.devices)
            out.push_back({{"device", d.name},
                           {"operation", std::string(to_string(kind))},
                           {"auth", std::string(to_string(req.auth_mode))},
                           {"key", req.key.to_string()},
                           {"completes_by", by},
                           {"dry_run", true}});
        ctx.print_json(out);
    } else {
        for (const auto& d : batch.devices)
            std::cout << "would schedule " << to_string(kind) << " for " << d.name << ": auth=" << to_string(req.auth_mode)
                      << " key=" << req.key.to_string()
                      << (req.completes_by ? " completes-by=" + format_utc(*req.completes_by) : "") << "\n";
    }
    std::cerr << "lscgate: dry run: " << batch.devices.size() << " device(s); nothing was scheduled\n";
}

int run_schedule(CliContext& ctx, OperationKind kind, const OpArgs& args) {
    // The same parsing as the web pages' schedule form (fleet/operation_request.h).
    auto parsed = parse_request_options(kind, args.auth, args.key, args.allow_weak_key);
    if (!parsed) return ctx.error(parsed.message());
    for (const auto& w : parsed->warnings) std::cerr << "lscgate: warning: " << w << "\n";
    auto by = parse_completes_by(args.by, now_utc());
    if (!by) return ctx.error(by.message());
    OperationRequest req = parsed->request;
    req.completes_by = *by;
    const bool generate = parsed->generate;
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    auto batch = resolve_batch(ctx, *store, args.bulk, Registered::MustExist, {}, now_utc());
    if (!batch) return ctx.error(batch.message() + " (nothing was scheduled)");
    if (args.bulk.dry_run) {
        print_would_schedule(ctx, kind, req, *batch);
        return kExitOk;
    }
    std::vector<std::string> names;
    names.reserve(batch->devices.size());
    for (const auto& d : batch->devices) names.push_back(d.name);
    // Secrets are generated and hashed (PBKDF2, slow on purpose) before any write:
    // the store then schedules in short transactions of kBulkChunkRows.
    auto prepared = prepare_schedule(names, *parsed, req.completes_by);
    if (!prepared) return ctx.error(prepared.message());
    const auto& items = prepared->items;
    const auto& digits_of = prepared->auth_strings;
    auto result = store->schedule_operations(items, actor_name());
    // What was committed is shown even after an error: a generated string is shown only here.
    print_scheduled(ctx, kind, req, result.done, digits_of, generate);
    if (result.error) {
        const std::size_t left = items.size() - result.done.size();
        // A device removed meanwhile is pointed at by its input line.
        const std::string where = result.failed_at ? batch->where(batch->devices[*result.failed_at]) : std::string();
        return ctx.error(where + result.error->message + (result.done.empty() ? " (nothing was scheduled)"
                                                                       : " (" + std::to_string(result.done.size()) +
                                                                             " scheduled as shown, " + std::to_string(left) +
                                                                             " not)"));
    }
    if (req.auth_mode == AuthMode::Null) {
        std::cerr << "note: auth=null accepts any phone that claims the name; use --auth string or lsc/mic outside a closed network\n";
        for (const auto& w : soft_client_warnings(names, kind)) std::cerr << "lscgate: warning: " << w << "\n";
    }
    return kExitOk;
}

int run_cancel(CliContext& ctx, const BulkOptions& bulk) {
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    // A query selects only devices with an open operation: "cancel what is pending for these phones".
    auto batch = resolve_batch(ctx, *store, bulk, Registered::MustExist, {"op=pending"}, now_utc());
    if (!batch) return ctx.error(batch.message() + " (nothing was cancelled)");
    if (bulk.dry_run) {
        for (const auto& d : batch->devices) std::cout << "would cancel the pending operation of " << d.name << "\n";
        std::cerr << "lscgate: dry run: " << batch->devices.size() << " device(s); nothing was cancelled\n";
        return kExitOk;
    }
    // The batch was checked whole (one unknown name cancels none); written in
    // transactions of kBulkChunkRows so the CAPF server never waits seconds.
    std::vector<std::string> names;
    for (const auto& d : batch->devices) names.push_back(d.name);
    auto result = store->cancel_operations(names, actor_name());
    for (const auto& n : result.done) std::cout << "cancelled the pending operation of " << n << "\n";
    if (result.error)
        return ctx.error((result.failed_at ? batch->where(batch->devices[*result.failed_at]) : std::string()) +
                         result.error->message + (result.done.empty() ? " (nothing was cancelled)"
                                                                       : " (" + std::to_string(result.done.size()) +
                                                                             " cancelled as shown, " +
                                                                             std::to_string(names.size() - result.done.size()) + " not)"));
    return kExitOk;
}

int run_list(CliContext& ctx, bool all, const std::string& device) {
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    if (auto n = store->expire_operations(now_utc()); !n) return ctx.error(n.message());
    std::optional<std::string> filter;
    if (!device.empty()) {
        auto n = normalize_device_name(device);
        if (!n) return ctx.error(n.message());
        filter = *n;
    }
    JsonArrayWriter json(std::cout);
    if (!ctx.json)
        std::printf("%-6s %-18s %-8s %-11s %-9s %-12s %-21s %s\n", "ID", "DEVICE", "OP", "AUTH", "KEY", "STATE",
                    "COMPLETES BY", "LAST ERROR");
    // An operation left in-progress by a session that died (server killed) is
    // timed-out once its deadline passes: shown as such. Without --all the list
    // is the operations still open in the registry, so such a one is listed (as
    // timed-out) until it is rescheduled or cancelled: it needs the admin.
    const UnixTime now = now_utc();
    // Streams: each operation is printed as it is read.
    auto walked = store->each_operation(filter, all, [&](const Operation& read) -> Status {
        Operation o = read;
        o.state = effective_state(o, now);
        const auto by = o.request.completes_by ? std::optional(format_utc(*o.request.completes_by)) : std::nullopt;
        if (ctx.json) {
            json.add({{"id", o.id},
                      {"device", o.device_name},
                      {"operation", std::string(to_string(o.request.kind))},
                      {"auth", std::string(to_string(o.request.auth_mode))},
                      {"key", o.request.key.to_string()},
                      {"state", std::string(to_string(o.state))},
                      {"completes_by", by ? nlohmann::json(*by) : nlohmann::json(nullptr)},
                      {"last_error", o.last_error},
                      {"updated_at", format_utc(o.updated_at)}});
            return {};
        }
        std::printf("%-6lld %-18s %-8s %-11s %-9s %-12s %-21s %s\n", static_cast<long long>(o.id), o.device_name.c_str(),
                    std::string(to_string(o.request.kind)).c_str(), std::string(to_string(o.request.auth_mode)).c_str(),
                    o.request.key.to_string().c_str(), std::string(to_string(o.state)).c_str(),
                    by ? by->c_str() : "-", o.last_error.c_str());
        return {};
    });
    if (!walked) return ctx.error(walked.message());
    if (ctx.json) json.finish();
    return kExitOk;
}

void add_schedule(CLI::App& op, CliContext& ctx, const char* name, OperationKind kind, const char* help) {
    auto args = std::make_shared<OpArgs>();
    auto* cmd = op.add_subcommand(name, help);
    add_bulk_options(*cmd, args->bulk, true);
    cmd->add_option("--auth", args->auth,
                    "null | string (generate) | string:DIGITS | lsc | mic | lsc-or-mic | mic-or-lsc")
        ->capture_default_str();
    cmd->add_option("--key", args->key, "rsa:1024|rsa:2048|rsa:3072|rsa:4096|ec:p256|ec:p384|ec:p521")->capture_default_str();
    cmd->add_option("--by", args->by, "completes-by deadline: +30m, +12h, +7d, 2026-12-01T17:00 or ...Z for UTC");
    if (kind == OperationKind::Install)
        cmd->add_flag("--allow-weak-key", args->allow_weak_key,
                      "schedule rsa:1024 anyway (FreeRADIUS on Debian 12 refuses such LSCs unless its security level is lowered)");
    cmd->add_flag("--json", ctx.json, "print as JSON");
    cmd->callback([&ctx, args, kind] { ctx.exit_code = run_schedule(ctx, kind, *args); });
}

}  // namespace

void add_op_command(CLI::App& app, CliContext& ctx) {
    auto* op = app.add_subcommand("op", "Schedule CAPF operations (what a phone gets on its next CAPF session)");
    op->require_subcommand(1);
    add_schedule(*op, ctx, "install", OperationKind::Install, "Install or upgrade an LSC (the phone generates the key)");
    add_schedule(*op, ctx, "fetch", OperationKind::Fetch, "Troubleshoot: fetch the phone's certificate");
    add_schedule(*op, ctx, "delete", OperationKind::Delete, "Delete the phone's LSC");

    auto cancel_args = std::make_shared<BulkOptions>();
    auto* cancel = op->add_subcommand("cancel", "Cancel the pending operation of devices");
    add_bulk_options(*cancel, *cancel_args, true);
    cancel->callback([&ctx, cancel_args] { ctx.exit_code = run_cancel(ctx, *cancel_args); });

    auto all = std::make_shared<bool>(false);
    auto device = std::make_shared<std::string>();
    auto* list = op->add_subcommand("list", "List pending operations (--all: history too)");
    list->add_flag("--all", *all, "include finished operations");
    list->add_option("--device", *device, "only this device");
    list->add_flag("--json", ctx.json, "print as JSON");
    list->callback([&ctx, all, device] { ctx.exit_code = run_list(ctx, *all, *device); });
}

}  // namespace lscgate::cli
