#pragma once

// A registry on either engine for reader tests: an SQLite file (created and
// migrated by Store) or a fresh database of the test PostgreSQL cluster
// (migrated by the issuer role; the reader connects as lscgate_radius). Rows are
// written with plain SQL on a writer connection of its own, as another process
// (lscgate serve, the CLI, another node) would, so every write is a commit the
// reader must notice on its own.

#include "pg_cluster.h"
#include "pki/certificate.h"
#include "registry/postgresql/pg_migrate.h"
#include "registry/postgresql/pq_handles.h"
#include "registry/sqlite_handles.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace lscgate::test {

enum class Engine { Sqlite, PostgreSQL };

inline std::string engine_name(Engine e) { return e == Engine::Sqlite ? "sqlite" : "postgresql"; }

class RegistryTestBackend {
public:
    /// Creates an empty, migrated registry. Check ok() (gtest assertions fail the test).
    explicit RegistryTestBackend(Engine engine) : engine_(engine) {
        if (engine == Engine::Sqlite) {
            const auto file = dir_ / "lscgate.db";
            { Store created = make_store(file); }
            auto db = SqliteDatabase::open(file.string(), SqliteDatabase::Mode::ReadWrite, 5000);
            if (!db) {
                fail_setup(db.message());
                return;
            }
            sqlite_ = std::make_unique<SqliteDatabase>(std::move(*db));
            database_ = file.string();
        } else {
            auto cluster = PgCluster::shared();
            if (!cluster) {
                fail_setup(cluster.message());
                return;
            }
            auto created = (*cluster)->create_database();
            if (!created) {
                fail_setup(created.message());
                return;
            }
            pg_db_ = *created;
            auto conn = PgConnection::connect(pg_db_.issuer);
            if (!conn) {
                fail_setup(conn.message());
                return;
            }
            pg_ = std::make_unique<PgConnection>(std::move(*conn));
            if (auto s = pg_migrate(*pg_); !s) {
                fail_setup(s.message());
                return;
            }
            database_ = pg_db_.radius;
        }
        ok_ = true;
    }

    bool ok() const { return ok_; }
    const std::string& setup_error() const { return error_; }
    Engine engine() const { return engine_; }
    /// What a RADIUS node's `database` option says: the file, or the radius role's conninfo.
    const std::string& database() const { return database_; }
    const PgTestDatabase& pg() const { return pg_db_; }

    /// A certificate row (kind lsc) with the facts of `cert`.
    void add_lsc(const std::string& device, const X509* cert, const std::string& status) {
        auto f = describe_certificate(cert);
        ASSERT_TRUE(f) << f.message();
        exec("INSERT INTO {T}certificates(device_name, kind, serial, fingerprint, subject, issuer, issuer_oneline, "
             "not_before, not_after, key_type, key_bits, pem, status, created_at) VALUES (?1, 'lsc', ?2, ?3, ?4, ?5, "
             "?6, {time ?7}, {time ?8}, ?9, 2048, ?10, ?11, {time ?7})",
             {device, f->serial_hex, f->sha256, f->subject, f->issuer, f->issuer_oneline,
              std::to_string(f->not_before), std::to_string(f->not_after), f->key_type, certificate_pem(cert), status});
    }
    void add_capf(const X509* cert, const std::string& status) {
        auto f = describe_certificate(cert);
        ASSERT_TRUE(f) << f.message();
        exec("INSERT INTO {T}capf_certificates(fingerprint, subject, issuer, serial, not_before, not_after, pem, status, "
             "created_at) VALUES (?1, ?2, ?3, ?4, {time ?5}, {time ?6}, ?7, ?8, {time ?5})",
             {f->sha256, f->subject, f->issuer, f->serial_hex, std::to_string(f->not_before),
              std::to_string(f->not_after), certificate_pem(cert), status});
    }
    void set_lsc_status(const std::string& device, const std::string& status) {
        exec("UPDATE {T}certificates SET status = ?1 WHERE device_name = ?2", {status, device});
    }
    void set_capf_status(const X509* cert, const std::string& status) {
        auto f = describe_certificate(cert);
        ASSERT_TRUE(f) << f.message();
        exec("UPDATE {T}capf_certificates SET status = ?1 WHERE fingerprint = ?2", {status, f->sha256});
    }

    /// Runs `sql` with ?N parameters (text; numbers as their decimal text), where
    /// {T} is the table prefix and {time ?N} a Unix time parameter.
    void exec(std::string sql, const std::vector<std::string>& params) {
        const bool pg = engine_ == Engine::PostgreSQL;
        replace_all(sql, "{T}", pg ? "lscgate." : "");
        for (std::size_t i = params.size(); i >= 1; --i) {
            const std::string n = std::to_string(i);
            replace_all(sql, "{time ?" + n + "}", pg ? "to_timestamp($" + n + "::bigint)" : "CAST(?" + n + " AS INTEGER)");
            if (pg) replace_all(sql, "?" + n, "$" + n);
        }
        if (pg) {
            PgParams p(params.begin(), params.end());
            auto r = pg_->exec_params(sql, p);
            ASSERT_TRUE(r) << sql << ": " << r.message();
            return;
        }
        auto st = sqlite_->prepare(sql);
        ASSERT_TRUE(st) << sql << ": " << st.message();
        for (std::size_t i = 0; i < params.size(); ++i) st->bind(static_cast<int>(i + 1), params[i]);
        auto r = st->run();
        ASSERT_TRUE(r) << sql << ": " << r.message();
    }

private:
    void fail_setup(const std::string& why) { error_ = why; }
    static void replace_all(std::string& s, const std::string& from, const std::string& to) {
        for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
            s.replace(pos, from.size(), to);
    }

    Engine engine_;
    bool ok_ = false;
    std::string error_;
    TempDir dir_;
    std::unique_ptr<SqliteDatabase> sqlite_;
    std::unique_ptr<PgConnection> pg_;
    PgTestDatabase pg_db_;
    std::string database_;
};

}  // namespace lscgate::test
