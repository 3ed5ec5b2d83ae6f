// A registry that cannot write (full disk) fails with ErrorKind::Unavailable,
// keeps its write-ahead log small, and writes again once space returns — on the
// same connection, without a restart. SQLite's max_page_count stands in for the
// full file system here (the e2e test disk_full uses a real 2 MiB tmpfs).

#include "registry/store.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

using namespace lscgate;
using lscgate::test::TempDir;

namespace {

std::int64_t pragma_value(SqliteDatabase& db, const std::string& pragma) {
    auto st = db.prepare("PRAGMA " + pragma);
    EXPECT_TRUE(st) << st.message();
    EXPECT_TRUE(*st->step());
    return st->column_int(0);
}

std::string device_name(int i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "SEP%012X", 0x300000 + i);
    return buf;
}

}  // namespace

TEST(StoreDiskFull, AFullDatabaseIsUnavailableAndRecoversWhenSpaceReturns) {
    TempDir dir;
    Store store = test::make_store(dir / "lscgate.db");
    auto& db = store.database();
    const auto pages = pragma_value(db, "page_count");
    ASSERT_TRUE(db.exec("PRAGMA max_page_count = " + std::to_string(pages + 2)));
    const std::string big(3000, 'x');  // each device row then needs most of a page
    int added = 0;
    Status last;
    for (; added < 100; ++added) {
        auto d = store.add_device(device_name(added), "CP-8841", big, "test");
        if (!d) {
            last = d.error();
            break;
        }
    }
    ASSERT_LT(added, 100) << "the page limit never filled";
    ASSERT_FALSE(last);
    EXPECT_EQ(last.kind(), ErrorKind::Unavailable) << last.message();
    EXPECT_NE(last.message().find("full"), std::string::npos) << last.message();
    // The failed add left nothing behind.
    auto missing = store.find_device(device_name(added));
    ASSERT_TRUE(missing);
    EXPECT_FALSE(missing->has_value());
    // Space returns: the same connection writes again.
    ASSERT_TRUE(db.exec("PRAGMA max_page_count = 1000000"));
    auto d = store.add_device(device_name(added), "CP-8841", big, "test");
    ASSERT_TRUE(d) << d.message();
}

TEST(StoreDiskFull, TheWalIsCheckpointedEarlyAndTruncatedBack) {
    TempDir dir;
    Store store = test::make_store(dir / "lscgate.db");
    auto& db = store.database();
    EXPECT_EQ(pragma_value(db, "wal_autocheckpoint"), kWalCheckpointPages);
    EXPECT_EQ(pragma_value(db, "journal_size_limit"), kWalSizeLimitBytes);
    // 600 transactions of ~2 pages each: SQLite's default (1000 pages) would let the log reach ~4 MiB.
    const std::string text(2000, 'y');
    for (int i = 0; i < 600; ++i) ASSERT_TRUE(store.add_device(device_name(i), "", text, "test"));
    const auto wal = std::filesystem::file_size(dir / "lscgate.db-wal");
    EXPECT_LE(wal, static_cast<std::uintmax_t>(kWalCheckpointPages + 16) * 4096) << "WAL of " << wal << " bytes";
}

TEST(StoreDiskFull, TooLittleFreeSpaceIsUnavailable) {
    TempDir dir;
    Store store = test::make_store(dir / "lscgate.db");
    EXPECT_TRUE(store.check_free_space(0));
    auto none = store.check_free_space(std::numeric_limits<std::uint64_t>::max());
    ASSERT_FALSE(none);
    EXPECT_EQ(none.kind(), ErrorKind::Unavailable);
    EXPECT_NE(none.message().find("free on the registry's file system"), std::string::npos) << none.message();
}
