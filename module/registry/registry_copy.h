#pragma once

// `lscgate registry copy --from A --to B`: every device, operation,
// certificate, CAPF certificate, audit row, CAPF session and rollout (with its
// waves and devices) of one registry into another,
// SQLite ↔ PostgreSQL in either direction (or file to file), with their ids and
// timestamps. The target must be a new or empty registry: the copy never merges
// into a live one. It runs in one transaction on the target, reads the source
// from one snapshot, and before committing re-reads the target and compares
// each table's row count and fingerprint (registry_copy_tables.h) with the
// source's; any difference rolls the whole copy back.
//
// Not copied: last_seen (what RADIUS nodes last saw; it refills within one
// authentication per phone) and each engine's bookkeeping (schema version,
// change counter). The audit table stays append-only: rows are inserted, the
// triggers refusing UPDATE/DELETE stay in force. Each audit row keeps its id,
// time, prev_hash and hash, so the hash chain (audit_chain.h) is as valid in
// the target as in the source, and the target's next row chains onto it.

#include "pki/result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lscgate {

struct CopiedTable {
    std::string name;
    std::int64_t source_rows = 0;
    std::int64_t target_rows = 0;
    std::string source_sha256;  ///< lower-case hex over the source's rows (registry_copy_tables.h)
    std::string target_sha256;  ///< the same over the target's rows, read back before commit
    bool matches() const { return source_rows == target_rows && source_sha256 == target_sha256; }
};

struct CopyReport {
    std::vector<CopiedTable> tables;  ///< in copy order (copy_tables(): devices, …, audit, capf_sessions, rollouts, …)
    /// True when every table matched and the target committed; false: rolled back.
    bool committed = false;
};

/// Copies the registry `from` into `to`. Both are database settings as opened
/// (a SQLite file path, already resolved, or a PostgreSQL URI/conninfo).
/// Errors: Config — the same database twice, a source that is missing, not an
/// lscgate registry or at another schema version, a target at a newer schema
/// or not empty ("never merges into a live registry"), a malformed conninfo;
/// Unavailable — a server that cannot be reached, a target locked by a running
/// lscgate; Input — a value the target refuses (the table and ids are named).
/// A fingerprint mismatch is no error: the report says committed = false.
/// Messages never contain a password.
Result<CopyReport> copy_registry(const std::string& from, const std::string& to);

}  // namespace lscgate
