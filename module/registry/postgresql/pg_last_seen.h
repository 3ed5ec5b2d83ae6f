#pragma once

// Last-seen in the shared PostgreSQL registry: the sink a RADIUS node's writer
// thread uses (registry/last_seen_sink.h), and the read for `lscgate device seen`.
//
// Table lscgate.last_seen (pg_schema.h, migration 1), key (device, node): each
// node writes its own rows, so a phone seen by two nodes has two rows. A batch is
// one statement — INSERT … SELECT FROM unnest($2::text[], …) ON CONFLICT
// (device, node) DO UPDATE — so it is all-or-nothing and costs one round trip
// whatever its size. The RADIUS role needs exactly SELECT, INSERT and UPDATE on
// the table (lscgate.grant_radius_privileges()): SELECT because ON CONFLICT DO
// UPDATE reads the existing count.

#include "registry/last_seen_sink.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lscgate {

/// A sink writing to lscgate.last_seen of the registry at `conninfo` (libpq URI or
/// keyword/value string). It connects on its first write (on the writer thread)
/// and again after a connection error, with the registry reader's bounds
/// (pg_reader_conninfo.h: connect_timeout 3 s, tcp_user_timeout, keepalives)
/// and statement_timeout 10 s, so a dead server never holds the thread (and the
/// join at HUP or shutdown) for long. Errors: Config when libpq cannot parse
/// `conninfo` (no password shown). write() errors:
/// Unavailable (server unreachable or gone: the batch is kept and retried),
/// Config (authentication, privileges, registry not migrated), Input (a value
/// the server refuses: the batch is dropped, not retried forever).
Result<std::unique_ptr<LastSeenSink>> open_pg_last_seen(const std::string& conninfo);

/// Rows of lscgate.last_seen (every node), by device then node; only `device`'s
/// when given. Errors as PgConnection::connect and the query (Config when the
/// registry is not migrated).
Result<std::vector<SeenRecord>> read_pg_last_seen(const std::string& conninfo, std::optional<std::string> device);

/// `values` as a PostgreSQL array literal of text ({"a","b\"c"}), nullopt
/// elements as NULL: one bound parameter for a whole column of a batch
/// (PostgreSQL docs §8.15.6, array value input).
std::string pg_text_array(const std::vector<std::optional<std::string>>& values);

}  // namespace lscgate
