#pragma once

// Where a revoked phone's sessions are: its last-seen rows (registry/last_seen_sink.h),
// one per RADIUS node that saw it, each naming the NAS and the session ids of the
// phone's last authentication through that node.

#include "pki/result.h"
#include "registry/last_seen_sink.h"

#include <filesystem>
#include <string>
#include <vector>

namespace lscgate {

/// The last-seen rows of `device` (its name as the module records it): from the
/// registry's lscgate.last_seen when `database` is a PostgreSQL conninfo (every
/// node's row), else from each SQLite last-seen file in `files` (a RADIUS node's
/// module option last_seen_database). Errors: Config when the registry is SQLite
/// and no file is given (a SQLite registry holds no last-seen); the readers'
/// errors, prefixed with the file or "lscgate.last_seen".
Result<std::vector<SeenRecord>> device_last_seen(const std::string& database,
                                                 const std::vector<std::filesystem::path>& files,
                                                 const std::string& device);

/// The NAS to send a CoA to, with the session facts of the device's newest
/// authentication through it.
struct CoaTarget {
    std::string nas;      ///< canonical address literal (nas_secrets.h canonical_address)
    SeenEvent session;    ///< the newest row through that NAS (largest `at`)
};

/// Each distinct NAS of `rows` once, with its newest row: a switch that asked two
/// RADIUS nodes gets one request, with the session ids of the latest
/// authentication. Rows whose NAS is not an address literal are returned too (with
/// `nas` as recorded), so the caller can report them rather than skip them
/// silently. Ordered by NAS.
std::vector<CoaTarget> coa_targets(const std::vector<SeenRecord>& rows);

}  // namespace lscgate
