#pragma once

// One side of `lscgate registry copy`, each engine through its own handles
// (SqliteDatabase, PgConnection), not through Store: the copy must write the
// source's ids and timestamps as they are, which no Store method does.
//
// A source holds a read snapshot (SQLite: a read transaction; PostgreSQL:
// REPEATABLE READ READ ONLY) so every table is read as of one moment. A target
// holds one write transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: every
// copied table locked EXCLUSIVE, so no lscgate writes meanwhile); destroying an
// end without commit() rolls everything back.

#include "pki/result.h"
#include "registry/registry_copy_tables.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace lscgate {

class CopyEnd {
public:
    virtual ~CopyEnd() = default;
    /// Every row of `table` ordered by CopyTable::order_by, in CopyTable::columns order.
    virtual Status each_row(const CopyTable& table, const std::function<Status(const CopyRow&)>& fn) = 0;
    /// Inserts `rows` as given, ids included (target only).
    virtual Status insert(const CopyTable& table, const std::vector<CopyRow>& rows) = 0;
    /// After the last insert into `table`: new rows must get ids past the copied
    /// ones (PostgreSQL: setval of the identity sequence to max(id); SQLite
    /// takes max(rowid)+1 by itself).
    virtual Status finish_table(const CopyTable& table) = 0;
    virtual Result<std::int64_t> count(const CopyTable& table) = 0;
    /// Commits the target's transaction.
    virtual Status commit() = 0;
};

/// An existing SQLite registry at exactly this lscgate's schema version, opened
/// read-only. Errors (Config): missing file, not an lscgate registry, an older
/// schema (open it once with this lscgate to upgrade it) or a newer one.
Result<std::unique_ptr<CopyEnd>> open_sqlite_copy_source(const std::string& path);
/// A SQLite registry to copy into: created and migrated when the file does not
/// exist, upgraded when older; refused (Config) when newer or not an lscgate
/// registry. Emptiness is the caller's check, inside the returned transaction.
Result<std::unique_ptr<CopyEnd>> open_sqlite_copy_target(const std::string& path);

/// A PostgreSQL registry at exactly this lscgate's schema version (Config otherwise).
Result<std::unique_ptr<CopyEnd>> open_pg_copy_source(const std::string& conninfo);
/// A PostgreSQL database to copy into: schema `lscgate` created or upgraded
/// (pg_migrate) when missing or older, refused (Config) when newer; the tables
/// locked for the copy (at most 10 s wait, else Unavailable: the registry is in use).
Result<std::unique_ptr<CopyEnd>> open_pg_copy_target(const std::string& conninfo);

}  // namespace lscgate
