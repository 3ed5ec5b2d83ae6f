#pragma once

// Which devices a bulk command acts on (issue 10 items 1-2): names on the
// command line, `--from FILE|-` (a BAT custom file or phone export CSV),
// `--where KEY=VALUE` (ANDed) or `--all`. Exactly one of them; an empty
// selection is always an error, never "every device".

#include "cli/cli_context.h"
#include "fleet/device_batch.h"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace lscgate::cli {

struct BulkOptions {
    std::vector<std::string> names;
    std::string from;                     ///< FILE, or "-" for standard input
    std::vector<std::string> where;       ///< query terms (fleet/device_query.h)
    bool all = false;
    bool dry_run = false;
    std::vector<std::string> seen_files;  ///< RADIUS nodes' last-seen files for seen= on a SQLite registry
};

/// Adds NAME..., --from and --dry-run to `cmd`; with `with_query` also --where,
/// --all and --seen-file (not for `device add`: devices not yet added cannot be queried).
void add_bulk_options(CLI::App& cmd, BulkOptions& o, bool with_query);

/// The batch `o` names, checked against `store`: every name valid, and existing
/// (or, for `device add`, not yet existing); errors name the file and line.
/// `implicit` terms join a query (`op cancel` selects only devices with an open
/// operation). `now` judges lsc=active/expiring. Duplicate notes go to stderr.
Result<DeviceBatch> resolve_batch(const CliContext& ctx, Store& store, const BulkOptions& o, Registered rule,
                                  const std::vector<std::string>& implicit, UnixTime now);

}  // namespace lscgate::cli
