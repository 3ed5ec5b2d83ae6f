// The per-device "last seen" log of the RADIUS module: batched, coalesced,
// bounded, written off the request path.

#include "registry/last_seen_recorder.h"
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
