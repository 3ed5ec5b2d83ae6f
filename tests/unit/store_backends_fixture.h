#pragma once

// The registry writer (Store) on the backend named by the test parameter, shared
// by the store_*_test.cpp files: "sqlite" (a file in a temp dir) or "postgresql"
// (a fresh database of the throwaway cluster of pg_cluster.h, opened as the
// issuer role). Each file instantiates it with
//   INSTANTIATE_TEST_SUITE_P(Backends, StoreOnBackends,
//                            ::testing::Values(std::string("sqlite"), std::string("postgresql")), backend_name);
// so ctest names read unit.Backends/StoreOnBackends.<Name>/sqlite (or /postgresql).

#include "pg_cluster.h"
#include "registry/postgresql/pq_handles.h"
#include "registry/sqlite_handles.h"
#include "registry/store.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>

namespace lscgate::test {

class StoreOnBackends : public ::testing::TestWithParam<std::string> {
protected:
    TempDir dir;
    std::optional<PgTestDatabase> pg_db;
    std::string database = make_database();
    Store store = open_store(database);
    TestCa capf = make_root_ca("CN=CAPF-store,O=Example");
    CapfAuthority authority = authority_from(capf);

    bool on_pg() const { return GetParam() == "postgresql"; }
    // A file path, or the issuer's conninfo to a fresh database with setup.sql applied.
    std::string make_database() {
        if (!on_pg()) return (dir / "lscgate.db").string();
        auto cluster = PgCluster::shared();
        if (!cluster) throw std::runtime_error("no PostgreSQL test cluster: " + cluster.message());
        auto db = (*cluster)->create_database();
        if (!db) throw std::runtime_error("no test database: " + db.message());
        pg_db = *db;
        return db->issuer;
    }
    static Store open_store(const std::string& database, Store::OpenMode mode = Store::OpenMode::CreateAndMigrate) {
        auto s = Store::open(database, mode);
        if (!s) throw std::runtime_error(s.message());
        return std::move(*s);
    }
    // A second connection as the superuser, tables found without `lscgate.`:
    // the tests' SQL reads the same on both engines.
    PgConnection& raw_pg() {
        if (!raw_) {
            auto c = PgConnection::connect(pg_db->superuser);
            if (!c) throw std::runtime_error(c.message());
            if (auto r = c->exec("SET search_path = lscgate"); !r) throw std::runtime_error(r.message());
            raw_ = std::move(*c);
        }
        return *raw_;
    }

    Operation schedule(const std::string& device, OperationKind kind = OperationKind::Install) {
        OperationRequest r;
        r.kind = kind;
        auto op = store.schedule_operation(device, r, "test");
        EXPECT_TRUE(op) << op.message();
        return *op;
    }
    X509Ptr lsc_for(const std::string& device) {
        auto key = make_key("ec:p256");
        return std::move(*authority.issue_lsc(device, key.get(), 30));
    }
    // The one integer (or boolean) `sql` selects.
    int count(const std::string& sql) {
        if (on_pg()) {
            auto r = raw_pg().exec("SELECT (" + sql + ")::int");
            EXPECT_TRUE(r) << r.message();
            if (!r) return -1;
            auto v = r->int64(0, 0);
            EXPECT_TRUE(v) << v.message();
            return v ? static_cast<int>(*v) : -1;
        }
        auto st = store.database().prepare(sql);
        EXPECT_TRUE(st);
        EXPECT_TRUE(*st->step());
        return static_cast<int>(st->column_int(0));
    }
    // Raw SQL behind the Store's back; `pg_sql` when PostgreSQL needs other words.
    Status exec(const std::string& sqlite_sql, const std::string& pg_sql = "") {
        if (on_pg()) {
            auto r = raw_pg().exec(pg_sql.empty() ? sqlite_sql : pg_sql);
            if (!r) return r.error();
            return {};
        }
        return store.database().exec(sqlite_sql);
    }

    std::optional<PgConnection> raw_;
};

// Test names end in the backend: ctest -R 'StoreOnBackends.*/sqlite' (or /postgresql).
inline std::string backend_name(const ::testing::TestParamInfo<std::string>& param) { return param.param; }

}  // namespace lscgate::test
