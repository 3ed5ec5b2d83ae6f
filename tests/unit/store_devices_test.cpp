// The registry writer's devices: add, find, list, remove, bulk add in bounded
// transactions, the authentication lockout, and what holds every write together
// (nested transactions, the append-only audit). Runs on both backends (ctest
// names end in /sqlite or /postgresql; store_backends_fixture.h).

#include "registry/store.h"
#include "store_backends_fixture.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

using namespace lscgate;
using lscgate::test::backend_name;
using lscgate::test::StoreOnBackends;

namespace {

INSTANTIATE_TEST_SUITE_P(Backends, StoreOnBackends, ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         backend_name);

TEST_P(StoreOnBackends, DevicesAddFindListRemove) {
    ASSERT_TRUE(store.add_device("SEP000000000002", "CP-7841", "lobby", "test"));
    ASSERT_TRUE(store.add_device("SEP000000000001", "CP-8841", "desk", "test"));
    auto dup = store.add_device("SEP000000000001", "", "", "test");
    ASSERT_FALSE(dup);
    EXPECT_NE(dup.message().find("already exists"), std::string::npos);
    auto list = store.list_devices();
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].name, "SEP000000000001");
    EXPECT_TRUE(store.remove_device("SEP000000000001", "test"));
    EXPECT_FALSE(store.remove_device("SEP000000000001", "test"));
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE action='device.remove'"), 1);
}

// =============================================================================
// Bulk writes in bounded transactions

TEST_P(StoreOnBackends, BulkAddCommitsInChunksAndChecksEverythingFirst) {
    std::vector<std::string> names;
    for (int i = 0; i < 1203; ++i) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "SEP%012X", i + 1);
        names.emplace_back(buf);
    }
    auto all = store.add_devices(names, "CP-8841", "", "test");
    ASSERT_FALSE(all.error) << all.error->message;
    EXPECT_EQ(all.done.size(), names.size());
    EXPECT_EQ(count("SELECT count(*) FROM devices"), 1203);
    // Already registered, or twice in the list: nothing is added.
    auto again = store.add_devices({"SEP100000000001", "SEP000000000001"}, "", "", "test");
    ASSERT_TRUE(again.error);
    EXPECT_NE(again.error->message.find("already exists"), std::string::npos);
    EXPECT_TRUE(again.done.empty());
    auto twice = store.add_devices({"SEP100000000001", "SEP100000000001"}, "", "", "test");
    ASSERT_TRUE(twice.error);
    EXPECT_NE(twice.error->message.find("listed twice"), std::string::npos);
    EXPECT_EQ(count("SELECT count(*) FROM devices"), 1203);
    // A failure in the third chunk (of 2 rows) keeps the first two chunks: they
    // were committed on their own, so the writer lock was released between them.
    ASSERT_TRUE(exec("CREATE TRIGGER refuse BEFORE INSERT ON devices WHEN NEW.name = 'SEP200000000005' "
                     "BEGIN SELECT RAISE(ABORT, 'disk full (simulated)'); END",
                     "CREATE FUNCTION lscgate.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                     "IF NEW.name = 'SEP200000000005' THEN RAISE EXCEPTION 'disk full (simulated)'; END IF; "
                     "RETURN NEW; END $$; CREATE TRIGGER refuse BEFORE INSERT ON lscgate.devices "
                     "FOR EACH ROW EXECUTE FUNCTION lscgate.refuse()"));
    std::vector<std::string> batch;
    for (int i = 1; i <= 7; ++i) batch.push_back("SEP20000000000" + std::to_string(i));
    auto partial = store.add_devices(batch, "", "", "test", 2);
    ASSERT_TRUE(partial.error);
    EXPECT_NE(partial.error->message.find("disk full"), std::string::npos) << partial.error->message;
    ASSERT_EQ(partial.done.size(), 4u);
    EXPECT_EQ(partial.done.back().name, "SEP200000000004");
    EXPECT_EQ(count("SELECT count(*) FROM devices WHERE name LIKE 'SEP2%'"), 4);
}

// =============================================================================
// The authentication lockout

TEST_P(StoreOnBackends, LockoutAfterThresholdAndReset) {
    auto dev = store.add_device("SEP000000000001", "", "", "test");
    ASSERT_TRUE(dev);
    // Three attempts are allowed (the third one locks for those after it) ...
    for (int i = 1; i <= 3; ++i) {
        auto allowed = store.reserve_auth_attempt(dev->id, 3, 60);
        ASSERT_TRUE(allowed);
        EXPECT_TRUE(*allowed) << i;
    }
    // ... the fourth, and any parallel one, is refused without running.
    auto refused = store.reserve_auth_attempt(dev->id, 3, 60);
    ASSERT_TRUE(refused);
    EXPECT_FALSE(*refused);
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE action='device.lockout'"), 1);
    auto d = store.find_device("SEP000000000001");
    ASSERT_TRUE(d->has_value());
    ASSERT_TRUE((*d)->locked_until.has_value());
    EXPECT_GT(*(*d)->locked_until, now_utc());
    EXPECT_TRUE(store.clear_auth_failures(dev->id));
    d = store.find_device("SEP000000000001");
    EXPECT_EQ((*d)->auth_failures, 0);
    EXPECT_FALSE((*d)->locked_until.has_value());
}

TEST_P(StoreOnBackends, AnExpiredLockoutStartsAFreshCount) {
    auto dev = store.add_device("SEP000000000001", "", "", "test");
    ASSERT_TRUE(dev);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(*store.reserve_auth_attempt(dev->id, 3, 60));
    EXPECT_FALSE(*store.reserve_auth_attempt(dev->id, 3, 60));
    ASSERT_TRUE(exec("UPDATE devices SET locked_until = 1", "UPDATE devices SET locked_until = to_timestamp(1)"));  // the lock ran out
    EXPECT_TRUE(*store.reserve_auth_attempt(dev->id, 3, 60));
    EXPECT_EQ(count("SELECT auth_failures FROM devices"), 1);
    EXPECT_EQ(count("SELECT locked_until IS NULL FROM devices"), 1);
}

TEST_P(StoreOnBackends, AReleasedAttemptIsGivenBackAndLiftsTheLockItReached) {
    auto dev = store.add_device("SEP000000000001", "", "", "test");
    ASSERT_TRUE(dev);
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(*store.reserve_auth_attempt(dev->id, 3, 60));
    ASSERT_TRUE(*store.reserve_auth_attempt(dev->id, 3, 60));  // the third reaches the limit: locked
    EXPECT_EQ(count("SELECT locked_until IS NOT NULL FROM devices"), 1);
    ASSERT_TRUE(store.release_auth_attempt(dev->id, 3));  // ... but it was a server fault
    EXPECT_EQ(count("SELECT auth_failures FROM devices"), 2);
    EXPECT_EQ(count("SELECT locked_until IS NULL FROM devices"), 1);
    EXPECT_TRUE(*store.reserve_auth_attempt(dev->id, 3, 60)) << "the phone may try again";
    // A lock reached by real failures stays when the count is still at the limit.
    ASSERT_TRUE(*store.reserve_auth_attempt(dev->id, 3, 60) == false);
    ASSERT_TRUE(exec("UPDATE devices SET auth_failures = 4"));
    ASSERT_TRUE(store.release_auth_attempt(dev->id, 3));
    EXPECT_EQ(count("SELECT auth_failures FROM devices"), 3);
    EXPECT_EQ(count("SELECT locked_until IS NOT NULL FROM devices"), 1);
    // Never below zero.
    ASSERT_TRUE(store.clear_auth_failures(dev->id));
    ASSERT_TRUE(store.release_auth_attempt(dev->id, 3));
    EXPECT_EQ(count("SELECT auth_failures FROM devices"), 0);
}

// =============================================================================
// Transactions and the audit

TEST_P(StoreOnBackends, NestedTransactionsRollBackTogether) {
    {
        auto outer = store.transaction();
        ASSERT_TRUE(outer);
        ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));  // nested savepoint inside
        ASSERT_FALSE(store.add_device("SEP000000000001", "", "", "test"));
        // outer not committed: destructor rolls everything back
    }
    EXPECT_EQ(count("SELECT count(*) FROM devices"), 0);
}

TEST_P(StoreOnBackends, AuditIsAppendOnly) {
    ASSERT_TRUE(store.audit("test", "x", "", ""));
    EXPECT_FALSE(exec("UPDATE audit SET actor='someone else'"));
    EXPECT_FALSE(exec("DELETE FROM audit"));
    auto events = store.list_audit(10);
    ASSERT_TRUE(events);
    ASSERT_EQ(events->size(), 1u);
    EXPECT_EQ((*events)[0].actor, "test");
}

}  // namespace
