#pragma once

// Where the fleet views read what the RADIUS nodes last saw (registry/
// last_seen_sink.h): the PostgreSQL registry's lscgate.last_seen (every node's
// rows), or the nodes' own SQLite last-seen files — a SQLite registry holds
// none. `lscgate report --seen-file` and the web pages ([web] last_seen) name
// the files.

#include "fleet/device_query.h"
#include "pki/result.h"
#include "registry/last_seen_sink.h"

#include <string>
#include <vector>

namespace lscgate {

struct LastSeenSource {
    std::string registry;            ///< the registry's location (database_location): PostgreSQL is read
    std::vector<std::string> files;  ///< SQLite last-seen files; when given, read instead of the registry

    /// Whether anything can be read: files given, or a PostgreSQL registry.
    bool available() const;
    /// Why nothing can be read (for a page or a note), "" when available().
    std::string unavailable_reason() const;
};

/// The newest last-seen event per device over every node (load_last_seen).
/// Errors: not available() (kind Config), an unreadable file or server.
Result<LastSeenIndex> read_last_seen_index(const LastSeenSource& source);

/// `device`'s rows (one per RADIUS node that saw it), newest first: an indexed
/// lookup in each file or in lscgate.last_seen. Errors as read_last_seen_index.
Result<std::vector<SeenRecord>> device_sightings(const LastSeenSource& source, const std::string& device);

/// How many devices `index` last saw authenticating with their MIC (class mic):
/// the phones still to move to an LSC for 802.1X.
std::size_t count_seen_with_mic(const LastSeenIndex& index);

}  // namespace lscgate
