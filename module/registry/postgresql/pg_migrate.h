#pragma once

// Creating and upgrading the registry schema on PostgreSQL (pg_schema.h).

#include "pki/result.h"
#include "registry/postgresql/pq_handles.h"

namespace lscgate {

/// The version this lscgate writes and reads: one per shipped migration.
int pg_schema_latest_version();

/// The registry's schema version in the connected database: the highest row of
/// lscgate.schema_version, 0 when that table (or the schema) does not exist yet.
/// Errors: the server's (e.g. Config when the role may not read the table).
Result<int> pg_schema_version(PgConnection& conn);

/// Brings the schema to pg_schema_latest_version(): creates the schema `lscgate`
/// when missing (which needs CREATE on the database; with
/// policy/postgresql/setup.sql it exists already, owned by the issuer), then
/// applies every missing migration and records it, all in one transaction under
/// the advisory lock kPgMigrationLock, so concurrent starts migrate once. Safe
/// to run again (does nothing at the latest version). Errors: a database newer
/// than this lscgate (Config), the server's (a migration's SQL, privileges).
Status pg_migrate(PgConnection& conn);

/// Succeeds when the schema is exactly at pg_schema_latest_version(); for
/// connections that must not change the schema (RADIUS nodes). Errors (Config):
/// not migrated ("run lscgate init"), older or newer than this lscgate.
Status pg_check_schema_version(PgConnection& conn);

}  // namespace lscgate
