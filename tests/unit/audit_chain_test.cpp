// The tamper-evident audit trail (registry/audit_chain.h): the documented
// canonical text and hash, the verifier on its own, and on both registry
// backends (ctest names end in /sqlite or /postgresql): rows appended by the
// store form one chain, a row edited, deleted, reordered or inserted behind
// the store's back (triggers bypassed as an attacker with the database file or
// a superuser would) is named by row, existing rows are chained by the
// migration to schema version 3, and two writers at once never fork the chain.

#include "pg_cluster.h"
#include "registry/audit_chain.h"
#include "registry/postgresql/pg_schema.h"
#include "registry/postgresql/pq_handles.h"
#include "registry/sqlite_handles.h"
#include "registry/store.h"
#include "registry/store_schema.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace lscgate;
using lscgate::test::TempDir;

namespace {

AuditEvent event(std::int64_t id, const std::string& action, const std::string& prev) {
    AuditEvent e{id, 1700000000 + id, "cli:alice", action, "SEP001122334455", "n=" + std::to_string(id), prev, {}};
    e.hash = audit_row_hash(prev, e);
    return e;
}

std::vector<AuditEvent> chain_of(int n) {
    std::vector<AuditEvent> rows;
    std::string prev(kAuditGenesisHash);
    for (int i = 1; i <= n; ++i) {
        rows.push_back(event(i, "device.add", prev));
        prev = rows.back().hash;
    }
    return rows;
}

AuditChainReport verify(const std::vector<AuditEvent>& rows, std::optional<std::string> anchor = std::nullopt) {
    AuditChainVerifier v(std::move(anchor));
    for (const auto& r : rows) v.add(r);
    return v.finish();
}

TEST(AuditChain, CanonicalTextAndHashAreTheDocumentedOnes) {
    AuditEvent e{1, 1700000000, "cli:alice", "device.add", "SEP001122334455", "model=8845", {}, {}};
    EXPECT_EQ(audit_canonical_text(kAuditGenesisHash, e),
              "lscgate-audit-v1\nprev:0000000000000000000000000000000000000000000000000000000000000000\nid:1\n"
              "at:1700000000\nactor:9:cli:alice\naction:10:device.add\ndevice:15:SEP001122334455\ndetail:10:model=8845\n");
    // printf '<the text above>' | sha256sum
    EXPECT_EQ(audit_row_hash(kAuditGenesisHash, e), "b2cb907a8775b7df45c9b5024f24bcf31fc6826fb37eba6d991497c1f4748a01");
    // Length prefixes: moving bytes between fields changes the hash.
    AuditEvent shifted = e;
    shifted.actor = "cli:alicedevice.add";
    shifted.action = "";
    EXPECT_NE(audit_row_hash(kAuditGenesisHash, shifted), audit_row_hash(kAuditGenesisHash, e));
}

TEST(AuditChain, AnIntactChainReportsItsHead) {
    auto rows = chain_of(5);
    auto r = verify(rows);
    EXPECT_TRUE(r.intact());
    EXPECT_EQ(r.rows, 5);
    EXPECT_EQ(r.head_id, 5);
    EXPECT_EQ(r.head_hash, rows.back().hash);
    EXPECT_TRUE(verify({}).intact());
}

TEST(AuditChain, EachKindOfTamperingIsNamedByRow) {
    auto edited = chain_of(5);
    edited[2].detail = "n=99";
    auto r = verify(edited);
    ASSERT_FALSE(r.intact());
    EXPECT_EQ(r.broken->row_number, 3);
    EXPECT_EQ(r.broken->id, 3);
    EXPECT_NE(r.broken->what.find("edited"), std::string::npos) << r.broken->what;
    EXPECT_EQ(r.rows, 5);  // still counted to the end

    auto deleted = chain_of(5);
    deleted.erase(deleted.begin() + 2);
    r = verify(deleted);
    ASSERT_FALSE(r.intact());
    EXPECT_EQ(r.broken->row_number, 3);
    EXPECT_EQ(r.broken->id, 4);
    EXPECT_NE(r.broken->what.find("deleted, inserted or reordered"), std::string::npos) << r.broken->what;

    auto reordered = chain_of(5);
    std::swap(reordered[1], reordered[2]);
    r = verify(reordered);
    ASSERT_FALSE(r.intact());
    EXPECT_EQ(r.broken->row_number, 2);
    EXPECT_EQ(r.broken->id, 3);

    auto inserted = chain_of(5);
    AuditEvent stranger{6, 1700000100, "someone", "device.add", "SEP0000000000FF", "", {}, {}};
    inserted.push_back(stranger);
    r = verify(inserted);
    ASSERT_FALSE(r.intact());
    EXPECT_EQ(r.broken->row_number, 6);
    EXPECT_NE(r.broken->what.find("no chain hash"), std::string::npos) << r.broken->what;
}

TEST(AuditChain, AnAnchorCatchesRowsDeletedFromTheEnd) {
    auto rows = chain_of(5);
    const std::string head = rows.back().hash;
    EXPECT_TRUE(verify(rows, head).intact());
    EXPECT_TRUE(verify(rows, rows[2].hash).intact());  // an older head: rows were added since
    rows.pop_back();
    EXPECT_TRUE(verify(rows).intact());  // the chain alone cannot tell
    auto r = verify(rows, head);
    ASSERT_FALSE(r.intact());
    EXPECT_EQ(r.broken->row_number, 5);
    EXPECT_NE(r.broken->what.find("deleted from the end"), std::string::npos) << r.broken->what;
}

// ---- both backends ------------------------------------------------------------

class AuditOnBackends : public ::testing::TestWithParam<std::string> {
protected:
    TempDir dir;
    std::optional<test::PgTestDatabase> pg_db;
    std::string database = make_database();

    bool on_pg() const { return GetParam() == "postgresql"; }
    std::string make_database() {
        if (!on_pg()) return (dir / "lscgate.db").string();
        auto cluster = test::PgCluster::shared();
        if (!cluster) throw std::runtime_error("no PostgreSQL test cluster: " + cluster.message());
        auto db = (*cluster)->create_database();
        if (!db) throw std::runtime_error("no test database: " + db.message());
        pg_db = *db;
        return db->issuer;
    }
    Store open(Store::OpenMode mode = Store::OpenMode::CreateAndMigrate) {
        auto s = Store::open(database, mode);
        if (!s) throw std::runtime_error(s.message());
        return std::move(*s);
    }
    // Several audited writes: device adds, a schedule, a cancel, plain events.
    void write_trail(Store& store, int devices) {
        for (int i = 0; i < devices; ++i) {
            char name[16];
            std::snprintf(name, sizeof name, "SEP%012X", i + 1);
            ASSERT_TRUE(store.add_device(name, "8845", "", "test"));
        }
        ASSERT_TRUE(store.schedule_operation("SEP000000000001", OperationRequest{}, "test"));
        ASSERT_TRUE(store.cancel_operation("SEP000000000001", "test"));
        ASSERT_TRUE(store.audit("test", "note", "", "free text with\na newline"));
    }
    // Raw SQL as an attacker with the database: SQLite's triggers dropped (the
    // sqlite3 CLI can), PostgreSQL's bypassed by a superuser with
    // session_replication_role = replica.
    void tamper(const std::string& sql) {
        if (on_pg()) {
            auto c = PgConnection::connect(pg_db->superuser);
            ASSERT_TRUE(c) << c.message();
            ASSERT_TRUE(c->exec("SET search_path = lscgate")) << "search_path";
            ASSERT_TRUE(c->exec("SET session_replication_role = replica")) << "replica";
            auto r = c->exec(sql);
            ASSERT_TRUE(r) << sql << ": " << r.message();
            return;
        }
        auto db = SqliteDatabase::open(database, SqliteDatabase::Mode::ReadWrite, 5000);
        ASSERT_TRUE(db) << db.message();
        ASSERT_TRUE(db->exec("DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete"));
        auto r = db->exec(sql);
        ASSERT_TRUE(r) << sql << ": " << r.message();
    }
    AuditChainBreak expect_broken(Store& store) {
        auto r = store.verify_audit();
        EXPECT_TRUE(r) << r.message();
        if (!r || r->intact()) {
            ADD_FAILURE() << "the chain was reported intact";
            return {};
        }
        return *r->broken;
    }
};

INSTANTIATE_TEST_SUITE_P(Backends, AuditOnBackends, ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST_P(AuditOnBackends, AppendedRowsFormOneChainFromTheGenesis) {
    Store store = open();
    write_trail(store, 4);
    std::vector<AuditEvent> rows;
    ASSERT_TRUE(store.each_audit_row(0, [&](const AuditEvent& e) -> Status {
        rows.push_back(e);
        return {};
    }));
    ASSERT_EQ(rows.size(), 7u);
    EXPECT_EQ(rows[0].prev_hash, kAuditGenesisHash);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        EXPECT_EQ(rows[i].hash, audit_row_hash(rows[i].prev_hash, rows[i])) << i;
        if (i > 0) {
            EXPECT_EQ(rows[i].prev_hash, rows[i - 1].hash) << i;
        }
    }
    auto r = store.verify_audit(rows[3].hash);
    ASSERT_TRUE(r) << r.message();
    EXPECT_TRUE(r->intact()) << r->broken->what;
    EXPECT_EQ(r->rows, 7);
    EXPECT_EQ(r->head_hash, rows.back().hash);
    // Incremental export: only the rows after an id.
    int after = 0;
    ASSERT_TRUE(store.each_audit_row(rows[4].id, [&](const AuditEvent&) -> Status {
        ++after;
        return {};
    }));
    EXPECT_EQ(after, 2);
}

TEST_P(AuditOnBackends, AnEditedRowIsNamed) {
    Store store = open();
    write_trail(store, 4);
    tamper("UPDATE audit SET detail = 'model=7811' WHERE id = 3");
    auto b = expect_broken(store);
    EXPECT_EQ(b.row_number, 3);
    EXPECT_EQ(b.id, 3);
    EXPECT_NE(b.what.find("edited"), std::string::npos) << b.what;
}

TEST_P(AuditOnBackends, ADeletedRowIsNamed) {
    Store store = open();
    write_trail(store, 4);
    tamper("DELETE FROM audit WHERE id = 3");
    auto b = expect_broken(store);
    EXPECT_EQ(b.row_number, 3);
    EXPECT_EQ(b.id, 4);
    EXPECT_NE(b.what.find("deleted, inserted or reordered"), std::string::npos) << b.what;
}

TEST_P(AuditOnBackends, ReorderedRowsAreNamed) {
    Store store = open();
    write_trail(store, 4);
    tamper("UPDATE audit SET id = -3 WHERE id = 3");
    tamper("UPDATE audit SET id = 3 WHERE id = 4");
    tamper("UPDATE audit SET id = 4 WHERE id = -3");
    auto b = expect_broken(store);
    EXPECT_EQ(b.row_number, 3);
    EXPECT_EQ(b.id, 3);
}

TEST_P(AuditOnBackends, InsertedRowsAreNamed) {
    Store store = open();
    write_trail(store, 4);
    // At the end, as a plain INSERT would: no hash.
    tamper(on_pg() ? "INSERT INTO audit(id, at, actor, action) VALUES (100, now(), 'intruder', 'device.add')"
                   : "INSERT INTO audit(id, at, actor, action) VALUES (100, 1700000000, 'intruder', 'device.add')");
    auto b = expect_broken(store);
    EXPECT_EQ(b.row_number, 8);
    EXPECT_EQ(b.id, 100);
    EXPECT_NE(b.what.find("no chain hash"), std::string::npos) << b.what;
    tamper("DELETE FROM audit WHERE id = 100");
    // In the middle, with a hash the intruder computed correctly for it: the row
    // after it no longer follows.
    std::vector<AuditEvent> rows;
    ASSERT_TRUE(store.each_audit_row(0, [&](const AuditEvent& e) -> Status {
        rows.push_back(e);
        return {};
    }));
    tamper("UPDATE audit SET id = id + 1000 WHERE id >= 3");
    tamper("UPDATE audit SET id = id - 999 WHERE id >= 1000");
    AuditEvent forged{3, 1700000000, "intruder", "device.add", "SEP0000000000FF", "", rows[1].hash, {}};
    forged.hash = audit_row_hash(forged.prev_hash, forged);
    tamper(std::string("INSERT INTO audit(id, at, actor, action, device, detail, prev_hash, hash) VALUES (3, ") +
           (on_pg() ? "to_timestamp(1700000000)" : "1700000000") + ", 'intruder', 'device.add', 'SEP0000000000FF', '', '" +
           forged.prev_hash + "', '" + forged.hash + "')");
    b = expect_broken(store);
    EXPECT_EQ(b.row_number, 4);
    EXPECT_EQ(b.id, 4);
}

TEST_P(AuditOnBackends, TheStoreChainsOnAfterATamperedRowAndVerifyStillNamesIt) {
    Store store = open();
    write_trail(store, 2);
    tamper("UPDATE audit SET actor = 'nobody' WHERE id = 2");
    ASSERT_TRUE(store.audit("test", "note", "", "after the edit"));
    auto b = expect_broken(store);
    EXPECT_EQ(b.row_number, 2);
}

TEST_P(AuditOnBackends, TheAppendOnlyTriggersStayAfterTheMigration) {
    Store store = open();
    write_trail(store, 1);
    if (on_pg()) {
        auto c = PgConnection::connect(pg_db->issuer);
        ASSERT_TRUE(c) << c.message();
        EXPECT_FALSE(c->exec("UPDATE lscgate.audit SET detail = 'x' WHERE id = 1"));
        EXPECT_FALSE(c->exec("DELETE FROM lscgate.audit WHERE id = 1"));
    } else {
        EXPECT_FALSE(store.database().exec("UPDATE audit SET detail = 'x' WHERE id = 1"));
        EXPECT_FALSE(store.database().exec("DELETE FROM audit WHERE id = 1"));
    }
    auto r = store.verify_audit();
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->intact());
}

// A registry of schema version 2 with an audit trail: the migration chains the
// rows it finds, in id order, and the store appends after them.
TEST_P(AuditOnBackends, TheMigrationChainsTheRowsAlreadyPresent) {
    if (on_pg()) {
        auto c = PgConnection::connect(pg_db->issuer);
        ASSERT_TRUE(c) << c.message();
        for (int v = 0; v < 2; ++v) {
            ASSERT_TRUE(c->exec(std::string(kPgMigrations[static_cast<std::size_t>(v)])));
            ASSERT_TRUE(c->exec("INSERT INTO lscgate.schema_version(version) VALUES (" + std::to_string(v + 1) + ")"));
        }
        for (int i = 1; i <= 1500; ++i)  // more than one page of kPgAuditPageRows
            ASSERT_TRUE(c->exec("INSERT INTO lscgate.audit(at, actor, action, device, detail) VALUES (to_timestamp(" +
                                std::to_string(1600000000 + i) + "), 'cli:old', 'device.add', 'SEP" +
                                std::to_string(100000000000 + i) + "', 'v2')"));
    } else {
        auto db = SqliteDatabase::open(database, SqliteDatabase::Mode::ReadWriteCreate, 5000);
        ASSERT_TRUE(db) << db.message();
        ASSERT_TRUE(db->exec(kStoreMigrations[0]));
        ASSERT_TRUE(db->exec(kStoreMigrations[1]));
        ASSERT_TRUE(db->exec("PRAGMA user_version = 2"));
        ASSERT_TRUE(db->exec("BEGIN"));
        for (int i = 1; i <= 1500; ++i)
            ASSERT_TRUE(db->exec("INSERT INTO audit(at, actor, action, device, detail) VALUES (" +
                                 std::to_string(1600000000 + i) + ", 'cli:old', 'device.add', 'SEP" +
                                 std::to_string(100000000000 + i) + "', 'v2')"));
        ASSERT_TRUE(db->exec("COMMIT"));
    }
    Store store = open();
    // Migrated on to the latest version: chaining (version 3) is one step of it.
    EXPECT_EQ(store.schema_version(), static_cast<int>(on_pg() ? kPgMigrations.size() : kStoreMigrations.size()));
    ASSERT_TRUE(store.audit("test", "after.upgrade", "", ""));
    auto r = store.verify_audit();
    ASSERT_TRUE(r) << r.message();
    EXPECT_TRUE(r->intact()) << r->broken->what;
    EXPECT_EQ(r->rows, 1501);
    auto first = store.each_audit_row(0, [](const AuditEvent& e) -> Status {
        if (e.id == 1 && e.prev_hash != kAuditGenesisHash) return fail("row 1 is not chained to the genesis");
        if (e.hash.size() != 64) return fail("row " + std::to_string(e.id) + " has no hash");
        return {};
    });
    EXPECT_TRUE(first) << first.message();
    tamper("UPDATE audit SET detail = 'v3' WHERE id = 1200");
    auto b = expect_broken(store);
    EXPECT_EQ(b.row_number, 1200);
}

// Two writers (two lscgate serve / CLI on one registry) appending at once:
// every row is chained to the row before it, never two to the same one.
TEST_P(AuditOnBackends, ConcurrentWritersNeverForkTheChain) {
    { Store created = open(); }
    constexpr int kPerWriter = 150;
    std::vector<std::thread> writers;
    std::vector<std::string> errors(2);
    for (int w = 0; w < 2; ++w) {
        writers.emplace_back([&, w] {
            auto s = Store::open(database, Store::OpenMode::ExistingReadWrite, 20000);
            if (!s) {
                errors[static_cast<std::size_t>(w)] = s.message();
                return;
            }
            for (int i = 0; i < kPerWriter; ++i) {
                if (auto a = s->audit("writer" + std::to_string(w), "note", "", std::to_string(i)); !a) {
                    errors[static_cast<std::size_t>(w)] = a.message();
                    return;
                }
            }
        });
    }
    for (auto& t : writers) t.join();
    EXPECT_EQ(errors[0], "");
    EXPECT_EQ(errors[1], "");
    Store store = open();
    auto r = store.verify_audit();
    ASSERT_TRUE(r) << r.message();
    EXPECT_TRUE(r->intact()) << r->broken->what << " at row " << r->broken->row_number;
    EXPECT_EQ(r->rows, 2 * kPerWriter);
}

}  // namespace
