#include "cli/bulk_source.h"

#include "fleet/device_input.h"
#include "fleet/device_query.h"

#include <iostream>

namespace lscgate::cli {
namespace {

Result<DeviceBatch> batch_from_file(const std::string& path) {
    auto text = read_device_input(path, std::cin);
    if (!text) return text.error();
    return batch_from_text(*text, path == "-" ? "standard input" : path);
}

Result<DeviceBatch> batch_from_query(const CliContext& ctx, Store& store, const BulkOptions& o,
                                     const std::vector<std::string>& implicit, UnixTime now) {
    std::vector<std::string> terms = o.where;
    terms.insert(terms.end(), implicit.begin(), implicit.end());
    auto query = parse_device_query(terms);
    if (!query) return query.error();
    std::optional<LastSeenIndex> seen;
    if (query->needs_last_seen()) {
        auto cfg = ctx.config();
        if (!cfg) return cfg.error();
        auto loaded = load_last_seen(cfg->database_location(), o.seen_files);
        if (!loaded) return loaded.error();
        seen = std::move(*loaded);
    }
    auto devices = select_devices(store, *query, now, seen ? &*seen : nullptr);
    if (!devices) return devices.error();
    DeviceBatch batch;
    batch.devices = std::move(*devices);
    return batch;
}

}  // namespace

void add_bulk_options(CLI::App& cmd, BulkOptions& o, bool with_query) {
    cmd.add_option("NAME", o.names, "device names, e.g. SEP001122334455");
    cmd.add_option("--from", o.from,
                   "read the devices from FILE ('-': standard input): one name per line (a BAT custom file), or a CSV "
                   "whose header has a 'Device Name' column (a BAT phone export)");
    if (with_query) {
        cmd.add_option("--where", o.where,
                       "select by query, repeatable (AND): name=SEP0011*, model=CP-8841, lsc=none|active|expiring:30d|"
                       "unconfirmed|revoked, seen=mic|never|CLASS, op=pending|none");
        cmd.add_flag("--all", o.all, "every device of the registry (required to mean all)");
        cmd.add_option("--seen-file", o.seen_files,
                       "a RADIUS node's last-seen file, for seen= on a SQLite registry (repeatable)");
    }
    cmd.add_flag("--dry-run", o.dry_run, "print what would be done, change nothing");
}

Result<DeviceBatch> resolve_batch(const CliContext& ctx, Store& store, const BulkOptions& o, Registered rule,
                                  const std::vector<std::string>& implicit, UnixTime now) {
    const int sources = (o.names.empty() ? 0 : 1) + (o.from.empty() ? 0 : 1) + (o.where.empty() ? 0 : 1) + (o.all ? 1 : 0);
    if (sources == 0)
        return fail(ErrorKind::Input, rule == Registered::MustNotExist
                                          ? "name the devices: NAME... or --from FILE"
                                          : "name the devices: NAME..., --from FILE, --where KEY=VALUE, or --all for "
                                            "every device");
    if (sources > 1)
        return fail(ErrorKind::Input, "give the devices one way only: NAME..., --from, --where or --all");
    if (!o.seen_files.empty() && o.where.empty()) return fail(ErrorKind::Input, "--seen-file goes with --where seen=…");
    if (!o.where.empty() || o.all) return batch_from_query(ctx, store, o, implicit, now);
    auto batch = o.from.empty() ? batch_from_names(o.names) : batch_from_file(o.from);
    if (!batch) return batch;
    for (const auto& note : batch->duplicate_notes()) std::cerr << "lscgate: note: " << note << "\n";
    // From a file, the registry is asked first so that an unknown (or, for add,
    // an existing) device is named with its line; names from the command line
    // are checked by the Store's bulk writes themselves (no second lookup each).
    if (!o.from.empty())
        if (auto s = check_registered(store, *batch, rule); !s) return s.error();
    return batch;
}

}  // namespace lscgate::cli
