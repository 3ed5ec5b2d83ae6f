// Registry memory stays flat however many devices there are: every value is
// bound (one prepared statement serves every device), the per-connection
// statement cache is bounded (least recently used evicted), and lists are
// walked row by row.

#include "registry/store.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <string>

using namespace lscgate;
using lscgate::test::TempDir;

namespace {

// Bytes SQLite holds for this connection's prepared statements (sqlite3_db_status).
int statement_bytes(SqliteDatabase& db) {
    int current = 0;
    int high = 0;
    sqlite3_db_status(db.raw(), SQLITE_DBSTATUS_STMT_USED, &current, &high, 0);
    return current;
}

std::string device_name(int i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "SEP%012X", 0x100000 + i);
    return buf;
}

// What one CAPF session reads and writes about a device, as session.cpp does.
void touch_device(Store& store, const std::string& name) {
    auto dev = store.find_device(name);
    ASSERT_TRUE(dev && dev->has_value()) << name;
    auto op = store.open_operation((*dev)->id);
    ASSERT_TRUE(op) << op.message();
    ASSERT_TRUE(op->has_value()) << name;
    auto allowed = store.reserve_auth_attempt((*dev)->id, 5, 60);
    ASSERT_TRUE(allowed && *allowed) << allowed.message();
    ASSERT_TRUE(store.clear_auth_failures((*dev)->id));
    ASSERT_TRUE(store.set_operation_state((*op)->id, OperationState::InProgress, ""));
    auto lsc = store.active_lsc(name);
    ASSERT_TRUE(lsc) << lsc.message();
}

}  // namespace

TEST(StoreMemory, StatementCacheStaysConstantOverThousandsOfDevices) {
    TempDir dir;
    Store store = test::make_store(dir / "lscgate.db");
    constexpr int kDevices = 3000;
    {
        auto tx = SqliteTransaction::begin(store.database());
        ASSERT_TRUE(tx);
        OperationRequest r;
        r.kind = OperationKind::Install;
        for (int i = 0; i < kDevices; ++i) {
            ASSERT_TRUE(store.add_device(device_name(i), "CP-8841", "", "test"));
            ASSERT_TRUE(store.schedule_operation(device_name(i), r, "test"));
        }
        ASSERT_TRUE(tx->commit());
    }
    for (int i = 0; i < 20; ++i) touch_device(store, device_name(i));
    const std::size_t cached_after_few = store.database().cached_statements();
    const int bytes_after_few = statement_bytes(store.database());
    for (int i = 20; i < kDevices; ++i) touch_device(store, device_name(i));
    // A statement per device (the device id in the SQL text) grew both by one per device.
    EXPECT_EQ(store.database().cached_statements(), cached_after_few);
    EXPECT_EQ(statement_bytes(store.database()), bytes_after_few);
    EXPECT_LE(cached_after_few, kStatementCacheCapacity);

    // Walking every device visits each once, in name order.
    int seen = 0;
    std::string last;
    ASSERT_TRUE(store.each_device([&](const Device& d) -> Status {
        EXPECT_LT(last, d.name);
        last = d.name;
        ++seen;
        return {};
    }));
    EXPECT_EQ(seen, kDevices);
    EXPECT_EQ(store.database().cached_statements(), cached_after_few + 1);  // the walk's own statement, reused next time
}

TEST(StoreMemory, TheStatementCacheIsBoundedWhateverTheSql) {
    TempDir dir;
    Store store = test::make_store(dir / "lscgate.db");
    auto& db = store.database();
    for (int i = 0; i < 1000; ++i) {
        auto st = db.prepare("SELECT " + std::to_string(i));
        ASSERT_TRUE(st);
        ASSERT_TRUE(*st->step());
        EXPECT_EQ(st->column_int(0), i);
    }
    EXPECT_EQ(db.cached_statements(), kStatementCacheCapacity);
    const int bytes = statement_bytes(db);
    for (int i = 1000; i < 3000; ++i) ASSERT_TRUE(db.prepare("SELECT " + std::to_string(i)));
    EXPECT_EQ(db.cached_statements(), kStatementCacheCapacity);
    EXPECT_LE(statement_bytes(db), bytes + bytes / 4) << "evicted statements must be finalized";
    // The most recently used statements are the ones kept: a hit leaves the cache
    // while in use, a miss (long evicted) is prepared anew.
    {
        auto recent = db.prepare("SELECT 2999");
        ASSERT_TRUE(recent);
        EXPECT_EQ(db.cached_statements(), kStatementCacheCapacity - 1) << "SELECT 2999 should have been cached";
        auto old = db.prepare("SELECT 0");
        ASSERT_TRUE(old);
        EXPECT_EQ(db.cached_statements(), kStatementCacheCapacity - 1) << "SELECT 0 should have been evicted";
    }
    EXPECT_EQ(db.cached_statements(), kStatementCacheCapacity);
}

TEST(StoreMemory, AStopFromTheRowCallbackEndsTheWalkWithItsError) {
    TempDir dir;
    Store store = test::make_store(dir / "lscgate.db");
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(store.add_device(device_name(i), "", "", "test"));
    int seen = 0;
    auto s = store.each_device([&](const Device&) -> Status {
        if (++seen == 2) return fail("stop here");
        return {};
    });
    ASSERT_FALSE(s);
    EXPECT_EQ(s.message(), "stop here");
    EXPECT_EQ(seen, 2);
    // The statement went back to the cache reset: the next walk starts from the first row.
    seen = 0;
    ASSERT_TRUE(store.each_device([&](const Device&) -> Status {
        ++seen;
        return {};
    }));
    EXPECT_EQ(seen, 5);
}
