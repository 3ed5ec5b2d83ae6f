// The registry writer's operations: scheduling (one open operation per device),
// what a request carries, deadlines and expiry, bulk scheduling in bounded
// transactions, and claiming an operation when two writers share the registry.
// Runs on both backends (ctest names end in /sqlite or /postgresql;
// store_backends_fixture.h).

#include "pki/auth_secret.h"
#include "registry/store.h"
#include "store_backends_fixture.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace lscgate;
using lscgate::test::backend_name;
using lscgate::test::StoreOnBackends;

namespace {

INSTANTIATE_TEST_SUITE_P(Backends, StoreOnBackends, ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         backend_name);

TEST_P(StoreOnBackends, SchedulingReplacesTheOpenOperation) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    EXPECT_FALSE(store.schedule_operation("SEP000000000009", {}, "test"));
    auto first = schedule("SEP000000000001");
    auto second = schedule("SEP000000000001", OperationKind::Fetch);
    EXPECT_NE(first.id, second.id);
    auto open = store.open_operation(first.device_id);
    ASSERT_TRUE(open && open->has_value());
    EXPECT_EQ((*open)->id, second.id);
    EXPECT_EQ((*open)->request.kind, OperationKind::Fetch);
    auto all = store.list_operations(std::nullopt, true);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ((*all)[0].state, OperationState::Cancelled);
    EXPECT_TRUE(store.cancel_operation("SEP000000000001", "test"));
    EXPECT_FALSE(store.cancel_operation("SEP000000000001", "test"));
}

TEST_P(StoreOnBackends, OperationRoundTripsKeyAndDeadlineAndHash) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    OperationRequest r;
    r.kind = OperationKind::Install;
    r.auth_mode = AuthMode::String;
    r.auth_secret_hash = *hash_auth_string("12345678");
    r.key = KeySpec{KeyType::Ec, 0, EcCurve::P384};
    r.completes_by = 2000000000;
    auto op = store.schedule_operation("SEP000000000001", r, "test");
    ASSERT_TRUE(op);
    EXPECT_EQ(op->request.key.to_string(), "ec:p384");
    EXPECT_EQ(op->request.completes_by, 2000000000);
    EXPECT_TRUE(verify_auth_string("12345678", op->request.auth_secret_hash));
    EXPECT_EQ(count("SELECT count(*) FROM operations WHERE auth_secret LIKE '%12345678%'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE detail LIKE '%12345678%'"), 0);
}

TEST_P(StoreOnBackends, ExpireMarksOnlyLatePendingOperations) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    ASSERT_TRUE(store.add_device("SEP000000000002", "", "", "test"));
    OperationRequest late;
    late.completes_by = now_utc() - 10;
    OperationRequest fine;
    fine.completes_by = now_utc() + 3600;
    ASSERT_TRUE(store.schedule_operation("SEP000000000001", late, "test"));
    ASSERT_TRUE(store.schedule_operation("SEP000000000002", fine, "test"));
    auto n = store.expire_operations(now_utc());
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 1);
    EXPECT_EQ(count("SELECT count(*) FROM operations WHERE state='timed-out'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM operations WHERE state='pending'"), 1);
}

TEST_P(StoreOnBackends, AnOperationLeftInProgressPastItsDeadlineIsTimedOut) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    OperationRequest r;
    r.completes_by = 1000;
    auto op = store.schedule_operation("SEP000000000001", r, "test");
    ASSERT_TRUE(op);
    ASSERT_TRUE(store.set_operation_state(op->id, OperationState::InProgress, ""));  // its session died
    auto ops = store.list_operations(std::nullopt, true);
    ASSERT_TRUE(ops);
    ASSERT_EQ(ops->size(), 1u);
    EXPECT_EQ(effective_state((*ops)[0], 999), OperationState::InProgress);
    EXPECT_EQ(effective_state((*ops)[0], 1001), OperationState::TimedOut);
    EXPECT_TRUE(is_finished(effective_state((*ops)[0], 1001)));
    Operation done = (*ops)[0];
    done.state = OperationState::Succeeded;
    EXPECT_EQ(effective_state(done, 1001), OperationState::Succeeded);
    Operation open_ended = (*ops)[0];
    open_ended.request.completes_by.reset();
    EXPECT_EQ(effective_state(open_ended, 5000000000), OperationState::InProgress);
}

// =============================================================================
// Bulk writes in bounded transactions

TEST_P(StoreOnBackends, BulkScheduleCommitsInChunksAndRefusesUnknownDevicesFirst) {
    std::vector<std::pair<std::string, OperationRequest>> items;
    std::vector<std::string> names;
    for (int i = 1; i <= 9; ++i) names.push_back("SEP30000000000" + std::to_string(i));
    ASSERT_FALSE(store.add_devices(names, "", "", "test").error);
    for (const auto& n : names) items.emplace_back(n, OperationRequest{});
    items.emplace_back("SEP3000000000FF", OperationRequest{});
    auto unknown = store.schedule_operations(items, "test", 4);
    ASSERT_TRUE(unknown.error);
    EXPECT_NE(unknown.error->message.find("no such device: SEP3000000000FF"), std::string::npos);
    EXPECT_EQ(count("SELECT count(*) FROM operations"), 0);
    items.pop_back();
    auto ok = store.schedule_operations(items, "test", 4);
    ASSERT_FALSE(ok.error) << ok.error->message;
    ASSERT_EQ(ok.done.size(), 9u);
    EXPECT_EQ(ok.done[8].device_name, "SEP300000000009");
    EXPECT_EQ(count("SELECT count(*) FROM operations WHERE state='pending'"), 9);
}

// =============================================================================
// Concurrency (issue 8 item 6): two writers on one registry

TEST_P(StoreOnBackends, ClaimingAnOperationIsExclusiveUntilItIsStale) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    auto op = schedule("SEP000000000001");
    const UnixTime now = now_utc();
    auto first = store.claim_operation(op.id, now, 600, "server A");
    ASSERT_TRUE(first) << first.message();
    EXPECT_TRUE(*first);
    auto second = store.claim_operation(op.id, now, 600, "server B");
    ASSERT_TRUE(second) << second.message();
    EXPECT_FALSE(*second) << "an operation in progress is not claimed twice";
    EXPECT_EQ(count("SELECT count(*) FROM operations WHERE state='in-progress'"), 1);
    // The claimer itself (one process) may take back a claim none of its sessions holds.
    auto own = store.claim_operation(op.id, now + 1, 600, "server A");
    ASSERT_TRUE(own);
    EXPECT_TRUE(*own);
    EXPECT_FALSE(*store.claim_operation(op.id, now + 600, 600, "server B")) << "fresh: A claimed it at now + 1";
    // Its session died with its server: after the stale time another one takes it over.
    // PostgreSQL judges by its own clock (store.h): the claim is made old there.
    if (on_pg()) {
        ASSERT_TRUE(raw_pg().exec("UPDATE operations SET updated_at = updated_at - interval '601 seconds'"));
    }
    auto later = store.claim_operation(op.id, now + 601, 600, "server B");
    ASSERT_TRUE(later);
    EXPECT_TRUE(*later);
    // Handed back (the session failed on the phone's side): claimable again.
    ASSERT_TRUE(store.set_operation_state(op.id, OperationState::Pending, "phone went away"));
    EXPECT_TRUE(*store.claim_operation(op.id, now + 602, 600, "server A"));
    // Finished: never claimed again.
    ASSERT_TRUE(store.commit_issued_lsc(op, lsc_for("SEP000000000001").get()));
    EXPECT_FALSE(*store.claim_operation(op.id, now + 5000, 600, "server A"));
}

// Two connections (two `lscgate serve`) race for the same operation, many times:
// exactly one claims it and records its LSC each time, and every write of both
// (claims, records, confirmations, plain audit events) leaves its audit row.
TEST_P(StoreOnBackends, TwoWritersNeverIssueTwiceForOneOperationAndLoseNoAuditRow) {
    constexpr int kRounds = 40;
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    Store a = open_store(database, Store::OpenMode::ExistingReadWrite);
    Store b = open_store(database, Store::OpenMode::ExistingReadWrite);
    std::vector<X509Ptr> certs;  // made up front: the race is the registry's
    for (int i = 0; i < 2 * kRounds; ++i) certs.push_back(lsc_for("SEP000000000001"));
    const int audit_before = count("SELECT count(*) FROM audit");
    std::atomic<int> audit_writes{0};
    std::atomic<int> failures{0};
    std::string failure_text;
    std::mutex failure_lock;
    for (int round = 0; round < kRounds; ++round) {
        const Operation op = schedule("SEP000000000001");
        std::atomic<int> winners{0};
        std::latch start(2);
        auto racer = [&](Store& mine, const X509* cert, const std::string& server) {
            auto note = [&](const std::string& what) {
                ++failures;
                std::lock_guard<std::mutex> g(failure_lock);
                failure_text = what;
            };
            start.arrive_and_wait();
            if (mine.audit("racer", "race.attempt", op.device_name, "round")) ++audit_writes;
            else note("audit failed");
            auto claimed = mine.claim_operation(op.id, now_utc(), 600, server);
            if (!claimed) return note("claim: " + claimed.message());
            if (!*claimed) return;
            ++winners;
            auto rec = mine.record_issued_lsc(op, cert);
            if (!rec) return note("record: " + rec.message());
            auto ok = mine.confirm_issued_lsc(op, rec->id);
            if (!ok) return note("confirm: " + ok.message());
            audit_writes += 2;  // lsc.record, lsc.issue
        };
        std::thread ta(racer, std::ref(a), certs[static_cast<std::size_t>(2 * round)].get(), "server A");
        std::thread tb(racer, std::ref(b), certs[static_cast<std::size_t>(2 * round + 1)].get(), "server B");
        ta.join();
        tb.join();
        ASSERT_EQ(failures.load(), 0) << failure_text;
        ASSERT_EQ(winners.load(), 1) << "round " << round;
    }
    EXPECT_EQ(count("SELECT count(*) FROM certificates"), kRounds) << "one LSC per operation";
    EXPECT_EQ(count("SELECT count(*) FROM operations WHERE state='succeeded'"), kRounds);
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='active'"), 1);
    // Every successful write left its row: kRounds schedules + the racers' writes.
    EXPECT_EQ(count("SELECT count(*) FROM audit") - audit_before, kRounds + audit_writes.load());
}

}  // namespace
