// The registry writer on PostgreSQL only: claims judged by the server's clock,
// the roles' privileges, wrong passwords and unreachable or restarted servers,
// row locks, and the schema version. A fresh database of a real throwaway
// cluster (pg_cluster.h) per test, opened as the issuer role.

#include "pg_cluster.h"
#include "registry/postgresql/pg_migrate.h"
#include "registry/store.h"
#include "store_backends_fixture.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <string>

using namespace lscgate;
using lscgate::test::backend_name;

namespace {

class PgStoreTest : public test::StoreOnBackends {};

// Two CAPF servers whose clocks disagree share a PostgreSQL registry: the one
// running an hour ahead does not take over the other's live session, because the
// database server's clock stamps and judges claims.
// On PostgreSQL, several hosts write: claim staleness is judged by the server's clock.
TEST_P(PgStoreTest, AClaimIsJudgedByTheServersClockNotTheClaimers) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    auto op = schedule("SEP000000000001");
    const UnixTime now = now_utc();
    ASSERT_TRUE(*store.claim_operation(op.id, now - 3600, 600, "server A (an hour behind)"));
    auto ahead = store.claim_operation(op.id, now + 3600, 600, "server B (an hour ahead)");
    ASSERT_TRUE(ahead) << ahead.message();
    EXPECT_FALSE(*ahead) << "a live claim was taken over by a server whose clock runs ahead";
}

TEST_P(PgStoreTest, TheRadiusRoleCannotWriteThroughTheStore) {
    auto radius = Store::open(pg_db->radius, Store::OpenMode::ExistingReadWrite);
    ASSERT_FALSE(radius);
    EXPECT_EQ(radius.kind(), ErrorKind::Config) << radius.message();
    EXPECT_NE(radius.message().find("lscgate_radius has no INSERT/UPDATE privilege on lscgate."), std::string::npos)
        << radius.message();
    EXPECT_EQ(radius.message().find(test::kPgRadiusPassword), std::string::npos);
    // Nor can it migrate (create) the schema.
    auto create = Store::open(pg_db->radius, Store::OpenMode::CreateAndMigrate);
    ASSERT_FALSE(create);
    EXPECT_EQ(create.kind(), ErrorKind::Config) << create.message();
}

TEST_P(PgStoreTest, AWrongPasswordIsConfigAndNeverQuoted) {
    auto cluster = test::PgCluster::shared();
    ASSERT_TRUE(cluster);
    const std::string wrong = "Wrong-pw-Q9z";
    auto r = Store::open((*cluster)->tcp_conninfo("lscgate_issuer", wrong, pg_db->name));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.kind(), ErrorKind::Config) << r.message();
    EXPECT_EQ(r.message().find(wrong), std::string::npos) << r.message();
}

TEST_P(PgStoreTest, AnUnreachableServerIsUnavailable) {
    // A port nobody listens on: bound, then closed again.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    const int port = ntohs(addr.sin_port);
    ::close(fd);
    const std::string uri = "postgresql://lscgate_issuer:" + std::string(test::kPgIssuerPassword) + "@127.0.0.1:" +
                            std::to_string(port) + "/" + pg_db->name;
    auto r = Store::open(uri);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.kind(), ErrorKind::Unavailable) << r.message();
    EXPECT_EQ(r.message().find(test::kPgIssuerPassword), std::string::npos) << r.message();
}

TEST_P(PgStoreTest, AWriteWaitsForARowLockAtMostTheBusyTimeoutAndLosesNothing) {
    auto dev = store.add_device("SEP000000000001", "", "", "test");
    ASSERT_TRUE(dev);
    auto blocked = Store::open(database, Store::OpenMode::ExistingReadWrite, 300);
    ASSERT_TRUE(blocked) << blocked.message();
    // A CLI write holds the device row (as a CAPF session's transaction would).
    ASSERT_TRUE(raw_pg().exec("BEGIN; SELECT 1 FROM devices WHERE name='SEP000000000001' FOR UPDATE"));
    const auto started = std::chrono::steady_clock::now();
    auto r = blocked->reserve_auth_attempt(dev->id, 3, 60);
    const auto waited = std::chrono::steady_clock::now() - started;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.kind(), ErrorKind::Unavailable) << r.message();
    EXPECT_NE(r.message().find("lock timeout"), std::string::npos) << r.message();
    EXPECT_LT(waited, std::chrono::seconds(5));
    ASSERT_TRUE(raw_pg().exec("ROLLBACK"));
    EXPECT_EQ(count("SELECT auth_failures FROM devices"), 0) << "the timed-out write changed nothing";
    auto again = blocked->reserve_auth_attempt(dev->id, 3, 60);
    ASSERT_TRUE(again) << again.message();
    EXPECT_TRUE(*again);
    EXPECT_EQ(count("SELECT auth_failures FROM devices"), 1);
}

TEST_P(PgStoreTest, AServerRestartIsUnavailableThenRecoveredWithoutReopening) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    auto cluster = test::PgCluster::shared();
    ASSERT_TRUE(cluster);
    ASSERT_TRUE((*cluster)->stop());
    auto down = store.add_device("SEP000000000002", "", "", "test");
    ASSERT_FALSE(down);
    EXPECT_EQ(down.kind(), ErrorKind::Unavailable) << down.message();
    ASSERT_TRUE((*cluster)->start());
    raw_.reset();
    auto back = store.add_device("SEP000000000002", "", "", "test");
    ASSERT_TRUE(back) << back.message();
    auto found = store.find_device("SEP000000000001");
    ASSERT_TRUE(found && found->has_value()) << found.message();
    EXPECT_EQ(count("SELECT count(*) FROM devices"), 2);
}

TEST_P(PgStoreTest, OpensThroughStoreOpenAndReportsTheSchemaVersion) {
    EXPECT_FALSE(store.is_sqlite());
    EXPECT_EQ(store.schema_version(), pg_schema_latest_version());
    auto again = Store::open(database, Store::OpenMode::CreateAndMigrate);  // idempotent
    ASSERT_TRUE(again) << again.message();
    ASSERT_TRUE(raw_pg().exec("INSERT INTO schema_version(version) VALUES (99)"));
    auto newer = Store::open(database);
    ASSERT_FALSE(newer);
    EXPECT_NE(newer.message().find("newer"), std::string::npos) << newer.message();
}

INSTANTIATE_TEST_SUITE_P(Backends, PgStoreTest, ::testing::Values(std::string("postgresql")),
                         backend_name);

}  // namespace
