// The per-device "last seen" log of the RADIUS module: batched, coalesced,
// bounded, written off the request path.

#include "registry/last_seen_recorder.h"
#include "registry/sqlite_handles.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <thread>

using namespace lscgate;

TEST(LastSeenRecorder, CoalescesPerDeviceAndCounts) {
    test::TempDir dir;
    auto rec = LastSeenRecorder::start(dir / "seen.db", std::chrono::hours(1));
    ASSERT_TRUE(rec) << rec.message();
    (*rec)->record({"SEP000000000001", "mic", "10.0.0.1", "MIC from Cisco", 100});
    (*rec)->record({"SEP000000000001", "lsc-valid", "10.0.0.2", "valid", 200});
    (*rec)->record({"SEP000000000002", "lsc-revoked", "10.0.0.1", "revoked", 150});
    ASSERT_TRUE((*rec)->flush());
    (*rec)->record({"SEP000000000001", "lsc-valid", "10.0.0.3", "valid", 300});
    ASSERT_TRUE((*rec)->flush());
    auto rows = LastSeenRecorder::read_all(dir / "seen.db");
    ASSERT_TRUE(rows) << rows.message();
    ASSERT_EQ(rows->size(), 2u);
    EXPECT_EQ((*rows)[0].last.device, "SEP000000000001");
    EXPECT_EQ((*rows)[0].last.cls, "lsc-valid");
    EXPECT_EQ((*rows)[0].last.nas, "10.0.0.3");
    EXPECT_EQ((*rows)[0].last.at, 300);
    EXPECT_EQ((*rows)[0].count, 3);
    EXPECT_EQ((*rows)[1].last.cls, "lsc-revoked");
}

TEST(LastSeenRecorder, WritesInTheBackground) {
    test::TempDir dir;
    auto rec = LastSeenRecorder::start(dir / "seen.db", std::chrono::milliseconds(20));
    ASSERT_TRUE(rec);
    (*rec)->record({"SEP000000000009", "mic", "nas", "r", 1});
    // Bounded wait for the background writer (no flush() here).
    std::size_t rows = 0;
    for (int i = 0; i < 3000 && rows == 0; ++i) {  // up to 30 s on a loaded machine
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        auto all = LastSeenRecorder::read_all(dir / "seen.db");
        if (all) rows = all->size();
    }
    EXPECT_EQ(rows, 1u);
}

TEST(LastSeenRecorder, DropsBeyondTheBoundInsteadOfBlocking) {
    test::TempDir dir;
    auto rec = LastSeenRecorder::start(dir / "seen.db", std::chrono::hours(1), 3);
    ASSERT_TRUE(rec);
    for (int i = 0; i < 10; ++i) (*rec)->record({"SEP00000000000" + std::to_string(i), "mic", "n", "r", i});
    (*rec)->record({"SEP000000000000", "lsc-valid", "n", "r", 99});  // known device: coalesced, not dropped
    EXPECT_EQ((*rec)->dropped(), 7u);
    ASSERT_TRUE((*rec)->flush());
    auto rows = LastSeenRecorder::read_all(dir / "seen.db");
    ASSERT_TRUE(rows);
    EXPECT_EQ(rows->size(), 3u);
}

TEST(LastSeenRecorder, DestructorFlushesAndUnwritableFilesAreReported) {
    test::TempDir dir;
    {
        auto rec = LastSeenRecorder::start(dir / "seen.db", std::chrono::hours(1));
        ASSERT_TRUE(rec);
        (*rec)->record({"SEP0000000000AA", "mic", "n", "r", 5});
    }
    auto rows = LastSeenRecorder::read_all(dir / "seen.db");
    ASSERT_TRUE(rows);
    EXPECT_EQ(rows->size(), 1u);
    auto bad = LastSeenRecorder::start(dir / "no-such-dir" / "seen.db");
    EXPECT_FALSE(bad);
}

TEST(LastSeenRecorder, KeepsTheRequestContextAndTheNode) {
    test::TempDir dir;
    auto sink = open_last_seen_sink((dir / "seen.db").string(), "lscgate.db");  // a file: the SQLite sink
    ASSERT_TRUE(sink.ok() && *sink) << (sink ? "no sink" : sink.message());
    LastSeenRecorder::Options options;
    options.interval = std::chrono::hours(1);
    options.node = "radius-a";
    auto rec = LastSeenRecorder::start(std::move(*sink), options);
    ASSERT_TRUE(rec) << rec.message();
    SeenEvent e{"SEP000000000001", "mic", "10.0.0.1", "MIC", 100};
    e.calling_station_id = "00-11-22-33-44-55";
    e.nas_port_id = "Gi1/0/7";
    e.acct_session_id = "00000042";
    e.audit_session_id = "0A0B0C0D000000010203";
    (*rec)->record(e);
    ASSERT_TRUE((*rec)->flush());
    auto rows = LastSeenRecorder::read_all(dir / "seen.db");
    ASSERT_TRUE(rows) << rows.message();
    ASSERT_EQ(rows->size(), 1u);
    const SeenEvent& got = (*rows)[0].last;
    EXPECT_EQ(got.calling_station_id, "00-11-22-33-44-55");
    EXPECT_EQ(got.nas_port_id, "Gi1/0/7");
    EXPECT_EQ(got.acct_session_id, "00000042");
    EXPECT_EQ(got.audit_session_id, "0A0B0C0D000000010203");
    EXPECT_EQ(got.node, "radius-a");
}

TEST(LastSeenRecorder, AFileOfAnOlderModuleIsUpgradedKeepingItsRows) {
    test::TempDir dir;
    {
        auto db = SqliteDatabase::open((dir / "seen.db").string(), SqliteDatabase::Mode::ReadWriteCreate, 1000);
        ASSERT_TRUE(db);
        ASSERT_TRUE(db->exec("CREATE TABLE last_seen(device TEXT PRIMARY KEY, class TEXT NOT NULL, nas TEXT NOT NULL, "
                             "reason TEXT NOT NULL, at INTEGER NOT NULL, count INTEGER NOT NULL);"
                             "INSERT INTO last_seen VALUES('SEP000000000001', 'mic', '10.0.0.1', 'r', 5, 7);"));
    }
    auto old = LastSeenRecorder::read_all(dir / "seen.db");  // readable before the upgrade
    ASSERT_TRUE(old) << old.message();
    ASSERT_EQ(old->size(), 1u);
    EXPECT_EQ((*old)[0].last.node, "");
    {
        auto rec = LastSeenRecorder::start(dir / "seen.db", std::chrono::hours(1));
        ASSERT_TRUE(rec) << rec.message();
        SeenEvent e{"SEP000000000001", "lsc-valid", "10.0.0.2", "r", 9};
        e.nas_port_id = "Gi1/0/8";
        (*rec)->record(e);
        ASSERT_TRUE((*rec)->flush());
    }
    auto rows = LastSeenRecorder::read_all(dir / "seen.db");
    ASSERT_TRUE(rows) << rows.message();
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ((*rows)[0].count, 8);
    EXPECT_EQ((*rows)[0].last.nas_port_id, "Gi1/0/8");
}

TEST(LastSeenSink, EmptyMeansTheRegistryOnlyWhenItIsPostgresql) {
    auto none = open_last_seen_sink("", "/var/lib/lscgate/lscgate.db");
    ASSERT_TRUE(none);
    EXPECT_EQ(*none, nullptr);
    auto off = open_last_seen_sink("none", "postgresql://radius@db/radius");
    ASSERT_TRUE(off);
    EXPECT_EQ(*off, nullptr);
    auto pg = open_last_seen_sink("", "postgresql://radius@db.invalid/radius");  // connects on first write
    ASSERT_TRUE(pg);
    ASSERT_NE(*pg, nullptr);
    EXPECT_EQ((*pg)->describe().rfind("postgresql:", 0), 0u);
}
