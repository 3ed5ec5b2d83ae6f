// The PostgreSQL side of `lscgate registry copy` (registry_copy_end.h).

#include "registry/postgresql/pg_migrate.h"
#include "registry/postgresql/pq_handles.h"
#include "registry/registry_copy_end.h"

#include <optional>

namespace lscgate {
namespace {

// Rows per INSERT: 18 columns × 200 = 3600 parameters (the protocol allows 65535).
constexpr std::size_t kRowsPerInsert = 200;
// Rows per FETCH from the reading cursor: memory stays bounded for any registry.
constexpr int kRowsPerFetch = 500;

std::string qualified(const CopyTable& table) { return "lscgate." + std::string(table.name); }

std::string select_list(const CopyTable& table) {
    std::string out;
    for (const auto& c : table.columns) {
        const std::string name(c.name);
        out += out.empty() ? "" : ", ";
        out += c.kind == CopyColumnKind::Time   ? "floor(extract(epoch FROM " + name + "))::bigint"
               : c.kind == CopyColumnKind::Bool ? "(" + name + ")::int"
                                                : name;
    }
    return out;
}

class PgCopyEnd final : public CopyEnd {
public:
    explicit PgCopyEnd(PgConnection conn) : conn_(std::move(conn)) {}
    ~PgCopyEnd() override { tx_.reset(); }  // ROLLBACK unless committed, while conn_ is alive

    Status begin(std::string_view isolation) {
        auto tx = conn_.begin(isolation);
        if (!tx) return tx.error();
        tx_.emplace(std::move(*tx));
        return {};
    }
    Status exec(const std::string& sql) {
        auto r = conn_.exec(sql);
        if (!r) return r.error();
        return {};
    }

    Status each_row(const CopyTable& table, const std::function<Status(const CopyRow&)>& fn) override {
        if (auto s = exec("DECLARE lscgate_copy NO SCROLL CURSOR FOR SELECT " + select_list(table) + " FROM " +
                          qualified(table) + " ORDER BY " + std::string(table.order_by));
            !s)
            return s;
        for (;;) {
            auto batch = conn_.exec("FETCH " + std::to_string(kRowsPerFetch) + " FROM lscgate_copy");
            if (!batch) return batch.error();
            for (int r = 0; r < batch->rows(); ++r) {
                CopyRow row;
                row.reserve(table.columns.size());
                for (int c = 0; c < static_cast<int>(table.columns.size()); ++c) row.push_back(batch->optional_text(r, c));
                if (auto s = fn(row); !s) return s;
            }
            if (batch->rows() < kRowsPerFetch) break;
        }
        return exec("CLOSE lscgate_copy");
    }

    Status insert(const CopyTable& table, const std::vector<CopyRow>& rows) override {
        for (std::size_t from = 0; from < rows.size(); from += kRowsPerInsert) {
            const std::size_t to = std::min(rows.size(), from + kRowsPerInsert);
            if (auto s = insert_chunk(table, rows, from, to); !s) return s;
        }
        return {};
    }

    Status finish_table(const CopyTable& table) override {
        // The identity continues after the copied ids: the next device added on
        // PostgreSQL must not collide with a copied one.
        if (!table.identity) return {};
        const auto t = qualified(table);
        return exec("SELECT setval(pg_get_serial_sequence('" + t + "', 'id'), max(id)) FROM " + t);
    }

    Result<std::int64_t> count(const CopyTable& table) override {
        auto r = conn_.exec("SELECT count(*) FROM " + qualified(table));
        if (!r) return r.error();
        return r->int64(0, 0);
    }

    Status commit() override {
        if (!tx_) return fail("nothing to commit");
        auto s = tx_->commit();
        tx_.reset();
        return s;
    }

    PgConnection& connection() { return conn_; }

private:
    Status insert_chunk(const CopyTable& table, const std::vector<CopyRow>& rows, std::size_t from, std::size_t to) {
        std::string sql = "INSERT INTO " + qualified(table) + "(";
        for (std::size_t i = 0; i < table.columns.size(); ++i) sql += (i == 0 ? "" : ", ") + std::string(table.columns[i].name);
        sql += ") VALUES ";
        PgParams params;
        params.reserve((to - from) * table.columns.size());
        for (std::size_t r = from; r < to; ++r) {
            sql += r == from ? "(" : ", (";
            for (std::size_t i = 0; i < table.columns.size(); ++i) {
                params.push_back(rows[r][i]);
                const std::string n = "$" + std::to_string(params.size());
                sql += i == 0 ? "" : ", ";
                switch (table.columns[i].kind) {
                    case CopyColumnKind::Time: sql += "to_timestamp(" + n + "::bigint)"; break;
                    case CopyColumnKind::Int: sql += n + "::bigint"; break;
                    case CopyColumnKind::Bool: sql += n + "::int::boolean"; break;
                    case CopyColumnKind::Text: sql += n; break;
                }
            }
            sql += ")";
        }
        auto r = conn_.exec_params(sql, params);
        if (!r)
            return fail(r.kind(), std::string(table.name) + " " + std::string(table.columns[0].name) + " " +
                                      rows[from][0].value_or("?") + ".." + rows[to - 1][0].value_or("?") + ": " +
                                      r.message());
        return {};
    }

    PgConnection conn_;
    std::optional<PgTransaction> tx_;
};

Result<PgConnection> connect(const std::string& conninfo) {
    auto conn = PgConnection::connect(conninfo, 10, "lscgate registry copy");
    if (!conn) return conn.error();
    return std::move(*conn);
}

}  // namespace

Result<std::unique_ptr<CopyEnd>> open_pg_copy_source(const std::string& conninfo) {
    auto conn = connect(conninfo);
    if (!conn) return conn.error();
    if (auto s = pg_check_schema_version(*conn); !s) return s.error();
    auto end = std::make_unique<PgCopyEnd>(std::move(*conn));
    // One snapshot for every table; READ ONLY: the copy never writes its source.
    if (auto s = end->begin("REPEATABLE READ"); !s) return s.error();
    if (auto s = end->exec("SET TRANSACTION READ ONLY"); !s) return s.error();
    return std::unique_ptr<CopyEnd>(std::move(end));
}

Result<std::unique_ptr<CopyEnd>> open_pg_copy_target(const std::string& conninfo) {
    auto conn = connect(conninfo);
    if (!conn) return conn.error();
    auto version = pg_schema_version(*conn);
    if (!version) return version.error();
    if (*version > pg_schema_latest_version())
        return fail(ErrorKind::Config, "the target's registry schema version " + std::to_string(*version) +
                                           " is newer than this lscgate (" + std::to_string(pg_schema_latest_version()) +
                                           "); copy with the lscgate that wrote it");
    if (*version < pg_schema_latest_version()) {
        if (auto s = pg_migrate(*conn); !s) return s.error();
    }
    auto end = std::make_unique<PgCopyEnd>(std::move(*conn));
    if (auto s = end->begin("READ COMMITTED"); !s) return s.error();
    // No lscgate process may write while the copy runs (and none may have written
    // between the emptiness check and the commit).
    if (auto s = end->exec("SET LOCAL lock_timeout = '10s'"); !s) return s.error();
    if (auto s = end->exec("LOCK TABLE lscgate.devices, lscgate.operations, lscgate.certificates, "
                           "lscgate.capf_certificates, lscgate.audit, lscgate.capf_sessions, lscgate.rollouts, "
                           "lscgate.rollout_waves, lscgate.rollout_devices IN EXCLUSIVE MODE");
        !s) {
        if (end->connection().last_sqlstate() == sqlstate::kLockNotAvailable)
            return fail(ErrorKind::Unavailable, "the target registry is in use (its tables stayed locked for 10 s): "
                                                "stop every lscgate serve and CLI writing to it");
        return s.error();
    }
    return std::unique_ptr<CopyEnd>(std::move(end));
}

}  // namespace lscgate
