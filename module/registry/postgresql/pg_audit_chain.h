#pragma once

// The audit chain (registry/audit_chain.h) on PostgreSQL: reading audit rows
// with their hashes, and chaining the rows a registry had before schema
// version 3 (pg_schema.h, kPgMigrations[2]).

#include "pki/result.h"
#include "registry/postgresql/pq_handles.h"
#include "registry/records.h"

#include <cstdint>
#include <string>

namespace lscgate {

/// Audit rows read per round trip when walking the whole trail.
inline constexpr int kPgAuditPageRows = 1000;

/// The select list audit rows are read with, in the order pg_audit_row expects:
/// id, at (Unix seconds), actor, action, device, detail, prev_hash, hash.
std::string pg_audit_columns();

/// Row `row` of a result selected with pg_audit_columns(). Errors (Internal): a
/// NULL or non-integer id or time.
Result<AuditEvent> pg_audit_row(const PgResult& result, int row);

/// Computes prev_hash and hash of every audit row in id order, from the genesis
/// hash, in pages of kPgAuditPageRows. For the migration to version 3 only: it
/// runs inside its transaction with the append-only trigger disabled.
Status pg_chain_existing_audit_rows(PgConnection& conn);

}  // namespace lscgate
