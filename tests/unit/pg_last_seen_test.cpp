// Last-seen in the shared PostgreSQL registry, against a real cluster: one row
// per (device, node) when two RADIUS nodes see one phone, a batch written while
// the server is down reaches it after it is back, and the RADIUS role can write
// last-seen and nothing else.

#include "registry/sqlite_handles.h"
#include "pg_cluster.h"
#include "registry/last_seen_recorder.h"
#include "registry/postgresql/pg_last_seen.h"
#include "registry/postgresql/pg_migrate.h"
#include "registry/postgresql/pq_handles.h"

#include <gtest/gtest.h>

#include <thread>

namespace lscgate {
namespace {

using test::PgCluster;
using test::PgTestDatabase;

SeenEvent event(const std::string& device, const std::string& cls, const std::string& nas, std::int64_t at) {
    SeenEvent e{device, cls, nas, "reason", at};
    e.calling_station_id = "00-11-22-33-44-55";
    e.nas_port_id = "GigabitEthernet1/0/7";
    e.acct_session_id = "acct-\"1\"\\x";  // quote and backslash survive the array literal
    e.audit_session_id = "0A0B0C0D000000010203";
    return e;
}

class PgLastSeenTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto cluster = PgCluster::shared();
        ASSERT_TRUE(cluster.ok()) << cluster.message();
        cluster_ = *cluster;
        if (!cluster_->running()) {
            ASSERT_TRUE(cluster_->start().ok());
        }
        auto db = cluster_->create_database();
        ASSERT_TRUE(db.ok()) << db.message();
        db_ = *db;
        auto issuer = PgConnection::connect(db_.issuer);
        ASSERT_TRUE(issuer.ok()) << issuer.message();
        ASSERT_TRUE(pg_migrate(*issuer).ok());
    }

    std::unique_ptr<LastSeenRecorder> recorder(const std::string& node,
                                               std::chrono::milliseconds interval = std::chrono::hours(1)) {
        auto sink = open_last_seen_sink("", db_.radius);  // "": the registry, since it is PostgreSQL
        EXPECT_TRUE(sink.ok() && *sink) << (sink ? "no sink" : sink.message());
        LastSeenRecorder::Options options;
        options.node = node;
        options.interval = interval;
        options.max_backoff = std::chrono::milliseconds(200);
        auto r = LastSeenRecorder::start(std::move(*sink), options);
        EXPECT_TRUE(r.ok()) << r.message();
        return r ? std::move(*r) : nullptr;
    }

    std::vector<SeenRecord> rows(std::optional<std::string> device = std::nullopt) {
        auto r = read_pg_last_seen(db_.issuer, std::move(device));
        EXPECT_TRUE(r.ok()) << r.message();
        return r ? *r : std::vector<SeenRecord>{};
    }

    PgCluster* cluster_ = nullptr;
    PgTestDatabase db_;
};

TEST_F(PgLastSeenTest, TwoNodesSeeingOnePhoneMakeTwoRows) {
    auto a = recorder("radius-a");
    auto b = recorder("radius-b");
    a->record(event("SEP001122334455", "mic", "10.0.0.1", 100));
    a->record(event("SEP001122334455", "lsc-valid", "10.0.0.2", 200));
    b->record(event("SEP001122334455", "lsc-valid", "2001:db8::7", 150));
    b->record(event("SEP0000000000BB", "lsc-revoked", "not-an-address", 160));
    ASSERT_TRUE(a->flush().ok()) << a->last_error();
    ASSERT_TRUE(b->flush().ok()) << b->last_error();
    a->record(event("SEP001122334455", "lsc-valid", "10.0.0.3", 300));
    ASSERT_TRUE(a->flush().ok()) << a->last_error();

    auto seen = rows("SEP001122334455");
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].last.node, "radius-a");
    EXPECT_EQ(seen[0].last.cls, "lsc-valid");
    EXPECT_EQ(seen[0].last.nas, "10.0.0.3");
    EXPECT_EQ(seen[0].last.at, 300);
    EXPECT_EQ(seen[0].count, 3);
    EXPECT_EQ(seen[0].last.calling_station_id, "00-11-22-33-44-55");
    EXPECT_EQ(seen[0].last.nas_port_id, "GigabitEthernet1/0/7");
    EXPECT_EQ(seen[0].last.acct_session_id, "acct-\"1\"\\x");
    EXPECT_EQ(seen[0].last.audit_session_id, "0A0B0C0D000000010203");
    EXPECT_EQ(seen[1].last.node, "radius-b");
    EXPECT_EQ(seen[1].last.nas, "2001:db8::7");
    EXPECT_EQ(seen[1].count, 1);
    // A NAS text that is no address is kept out of the inet column, not the batch out of the table.
    auto other = rows("SEP0000000000BB");
    ASSERT_EQ(other.size(), 1u);
    EXPECT_EQ(other[0].last.nas, "");
    EXPECT_EQ(rows().size(), 3u);
}

TEST_F(PgLastSeenTest, ABatchRecordedWhileTheServerIsDownIsWrittenAfterItIsBack) {
    auto a = recorder("radius-a");
    a->record(event("SEP001122334455", "lsc-valid", "10.0.0.1", 100));
    ASSERT_TRUE(a->flush().ok()) << a->last_error();  // connected once

    ASSERT_TRUE(cluster_->stop().ok());
    a->record(event("SEP001122334455", "mic", "10.0.0.2", 200));
    a->record(event("SEP0000000000CC", "lsc-valid", "10.0.0.2", 210));
    auto down = a->flush();
    EXPECT_FALSE(down.ok());
    EXPECT_EQ(down.kind(), ErrorKind::Unavailable) << down.message();
    EXPECT_EQ(a->pending(), 2u);  // kept, not dropped
    EXPECT_EQ(a->dropped(), 0u);
    EXPECT_NE(a->last_error().find("postgresql:"), std::string::npos) << a->last_error();
    a->record(event("SEP001122334455", "lsc-valid", "10.0.0.3", 220));  // newer news while down: coalesced
    EXPECT_EQ(a->pending(), 2u);

    ASSERT_TRUE(cluster_->start().ok());
    ASSERT_TRUE(a->flush().ok()) << a->last_error();
    EXPECT_EQ(a->pending(), 0u);
    EXPECT_EQ(a->last_error(), "");
    auto seen = rows();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[1].last.device, "SEP001122334455");
    EXPECT_EQ(seen[1].last.nas, "10.0.0.3");
    EXPECT_EQ(seen[1].last.at, 220);
    EXPECT_EQ(seen[1].count, 3);
}

// A live but stuck server (a lock held on the table) ends the write at the
// writer's statement_timeout instead of holding the thread, and so the join at
// HUP or shutdown, for as long as the lock is held.
TEST_F(PgLastSeenTest, AStuckServerEndsTheWriteAtTheStatementTimeout) {
    auto a = recorder("radius-a");
    auto locker = PgConnection::connect(db_.superuser);
    ASSERT_TRUE(locker.ok()) << locker.message();
    ASSERT_TRUE(locker->exec("BEGIN; LOCK TABLE lscgate.last_seen IN ACCESS EXCLUSIVE MODE").ok());
    a->record(event("SEP001122334455", "lsc-valid", "10.0.0.1", 100));
    const auto start = std::chrono::steady_clock::now();
    auto stuck = a->flush();
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_FALSE(stuck.ok());
    EXPECT_LT(took, std::chrono::seconds(30));
    ASSERT_TRUE(locker->exec("ROLLBACK").ok());
}

TEST_F(PgLastSeenTest, TheWriterThreadRetriesAfterAnOutageByItself) {
    auto a = recorder("radius-a", std::chrono::milliseconds(20));
    ASSERT_TRUE(cluster_->stop().ok());
    a->record(event("SEP001122334455", "lsc-valid", "10.0.0.1", 100));
    // Wait (bounded) for the writer to fail at least once: the batch stays pending.
    for (int i = 0; i < 3000 && a->last_error().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_NE(a->last_error(), "");
    EXPECT_EQ(a->pending(), 1u);
    ASSERT_TRUE(cluster_->start().ok());
    // Back-off is capped at 200 ms here; wait (bounded, 60 s) for the row, no flush().
    std::size_t n = 0;
    for (int i = 0; i < 6000 && n == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        auto r = read_pg_last_seen(db_.issuer, std::nullopt);
        if (r) n = r->size();
    }
    EXPECT_EQ(n, 1u);
    EXPECT_EQ(a->dropped(), 0u);
}

TEST_F(PgLastSeenTest, TheRadiusRoleWritesLastSeenAndNothingElse) {
    auto a = recorder("radius-a");
    a->record(event("SEP001122334455", "lsc-valid", "10.0.0.1", 100));
    ASSERT_TRUE(a->flush().ok()) << a->last_error();  // as lscgate_radius (db_.radius)
    auto radius = PgConnection::connect(db_.radius);
    ASSERT_TRUE(radius.ok()) << radius.message();
    for (const char* sql : {"DELETE FROM lscgate.last_seen", "TRUNCATE lscgate.last_seen",
                            "UPDATE lscgate.devices SET model = 'x'", "DELETE FROM lscgate.certificates",
                            "INSERT INTO lscgate.audit(at, actor, action) VALUES (now(), 'radius', 'x')"}) {
        auto r = radius->exec(sql);
        EXPECT_FALSE(r.ok()) << "the RADIUS role may run: " << sql;
        EXPECT_EQ(radius->last_sqlstate(), sqlstate::kInsufficientPrivilege) << sql << ": " << r.message();
    }
    auto grants = radius->exec(
        "SELECT string_agg(privilege_type, ',' ORDER BY privilege_type) FROM information_schema.role_table_grants "
        "WHERE grantee = 'lscgate_radius' AND table_schema = 'lscgate' AND table_name = 'last_seen'");
    ASSERT_TRUE(grants.ok()) << grants.message();
    EXPECT_EQ(grants->text(0, 0), "INSERT,SELECT,UPDATE");
}

TEST(PgTextArray, QuotesEveryElementAndWritesNull) {
    EXPECT_EQ(pg_text_array({}), "{}");
    EXPECT_EQ(pg_text_array({std::string("a"), std::nullopt, std::string("b\"c\\d"), std::string("NULL"), std::string("")}),
              "{\"a\",NULL,\"b\\\"c\\\\d\",\"NULL\",\"\"}");
}

}  // namespace
}  // namespace lscgate
