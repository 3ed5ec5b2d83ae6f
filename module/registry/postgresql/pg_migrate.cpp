#include "registry/postgresql/pg_migrate.h"

#include "registry/postgresql/pg_audit_chain.h"
#include "registry/postgresql/pg_schema.h"

namespace lscgate {

int pg_schema_latest_version() { return static_cast<int>(kPgMigrations.size()); }

Result<int> pg_schema_version(PgConnection& conn) {
    auto exists = conn.exec("SELECT to_regclass('lscgate.schema_version') IS NOT NULL");
    if (!exists) return exists.error();
    auto present = exists->boolean(0, 0);
    if (!present) return present.error();
    if (!*present) return 0;
    auto r = conn.exec("SELECT coalesce(max(version), 0) FROM lscgate.schema_version");
    if (!r) return r.error();
    auto v = r->int64(0, 0);
    if (!v) return v.error();
    return static_cast<int>(*v);
}

Status pg_migrate(PgConnection& conn) {
    auto tx = conn.begin();
    if (!tx) return tx.error();
    if (auto lock = conn.exec_params("SELECT pg_advisory_xact_lock($1::bigint)", {pg_param(kPgMigrationLock)}); !lock)
        return lock.error();
    auto schema = conn.exec("SELECT to_regnamespace('lscgate') IS NOT NULL");
    if (!schema) return schema.error();
    auto has_schema = schema->boolean(0, 0);
    if (!has_schema) return has_schema.error();
    if (!*has_schema) {
        if (auto r = conn.exec("CREATE SCHEMA lscgate"); !r)
            return Error{"cannot create the schema lscgate (run policy/postgresql/setup.sql as a superuser first): " +
                             r.message(),
                         r.kind()};
    }
    auto version = pg_schema_version(conn);
    if (!version) return version.error();
    const int latest = pg_schema_latest_version();
    if (*version > latest)
        return fail(ErrorKind::Config, "registry schema version " + std::to_string(*version) +
                                           " is newer than this lscgate (" + std::to_string(latest) + ")");
    for (int v = *version; v < latest; ++v) {
        if (auto r = conn.exec(std::string(kPgMigrations[static_cast<std::size_t>(v)])); !r)
            return Error{"migration " + std::to_string(v + 1) + " failed: " + r.message(), r.kind()};
        if (v + 1 == kPgAuditChainVersion) {
            // The rows already present join the chain, oldest first, before the
            // append-only trigger is enabled again (same transaction).
            if (auto s = pg_chain_existing_audit_rows(conn); !s)
                return Error{"migration " + std::to_string(v + 1) + " (chaining the audit rows) failed: " + s.message(),
                             s.kind()};
            if (auto r = conn.exec(std::string(kPgAuditChainFinish)); !r)
                return Error{"migration " + std::to_string(v + 1) + " failed: " + r.message(), r.kind()};
        }
        if (auto r = conn.exec_params("INSERT INTO lscgate.schema_version(version) VALUES ($1)", {pg_param(v + 1)}); !r)
            return r.error();
    }
    return tx->commit();
}

Status pg_check_schema_version(PgConnection& conn) {
    auto version = pg_schema_version(conn);
    if (!version) return version.error();
    const int latest = pg_schema_latest_version();
    if (*version == 0) return fail(ErrorKind::Config, "not an lscgate registry: no schema lscgate (run 'lscgate init')");
    if (*version < latest)
        return fail(ErrorKind::Config, "registry schema version " + std::to_string(*version) + " is older than this lscgate (" +
                                           std::to_string(latest) + "): start the issuer (lscgate serve or init) to migrate it");
    if (*version > latest)
        return fail(ErrorKind::Config, "registry schema version " + std::to_string(*version) +
                                           " is newer than this lscgate (" + std::to_string(latest) + ")");
    return {};
}

}  // namespace lscgate
