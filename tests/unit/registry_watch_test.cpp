// RegistryWatch (registry/registry_watch.h): which file-system events make the
// SQLite reader stop trusting what it remembered, on real files in a temp dir.

#include "registry/registry_watch.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace lscgate;

namespace {

void append(const std::filesystem::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::app | std::ios::binary);
    out << text;
}

class RegistryWatchTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::filesystem::create_directories(dir.path() / "capf");
        for (const char* name : {"lscgate.db", "lscgate.db-wal", "lscgate.db-shm"}) append(db.parent_path() / name, "x");
        watch = RegistryWatch::open(db.string());
        if (!watch) GTEST_SKIP() << "no inotify here, or a symbolic link above " << dir.path();
    }

    // Settles and says whether the registry changed; afterwards the watch is quiet again.
    bool settle_changed() {
        const bool changed = watch->settle().changed();
        std::uint64_t g = 0;
        EXPECT_TRUE(watch->quiet(g)) << "events left after settle()";
        return changed;
    }

    test::TempDir dir;
    std::filesystem::path db = dir.path() / "capf" / "lscgate.db";
    std::unique_ptr<RegistryWatch> watch;
};

TEST_F(RegistryWatchTest, QuietUntilTheWalIsWrittenThenANewGeneration) {
    std::uint64_t before = 99;
    ASSERT_TRUE(watch->quiet(before));
    append(db.string() + "-wal", "commit");  // what every SQLite commit does before it returns
    std::uint64_t g = 0;
    EXPECT_FALSE(watch->quiet(g));
    EXPECT_TRUE(settle_changed());
    std::uint64_t after = 0;
    ASSERT_TRUE(watch->quiet(after));
    EXPECT_NE(after, before);
}

TEST_F(RegistryWatchTest, EveryRegistryFileCountsAndOtherFilesDoNot) {
    append(db.parent_path() / "capf.crl", "unrelated");
    append(db.parent_path() / "lscgate.db-journal-not-ours", "unrelated");
    EXPECT_FALSE(settle_changed());
    for (const std::string suffix : {"", "-shm"}) {
        append(db.string() + suffix, "y");
        EXPECT_TRUE(settle_changed()) << "lscgate.db" << suffix;
    }
    std::filesystem::resize_file(db, 0);  // cut short
    EXPECT_TRUE(settle_changed());
}

TEST_F(RegistryWatchTest, ReplacementsAndDeletionsCount) {
    append(db.parent_path() / "new.db", "other");
    (void)settle_changed();
    std::filesystem::rename(db.parent_path() / "new.db", db);
    EXPECT_TRUE(settle_changed());
    std::filesystem::remove(db.string() + "-wal");
    EXPECT_TRUE(settle_changed());
}

TEST_F(RegistryWatchTest, ADirectoryAboveMovedIsAChangeAndTheWatchFollowsThePath) {
    std::filesystem::rename(dir.path() / "capf", dir.path() / "old");
    std::filesystem::create_directories(db.parent_path());
    EXPECT_TRUE(settle_changed());
    // Re-armed on what the path names now: a write there is seen.
    append(db, "z");
    EXPECT_TRUE(settle_changed());
    // ... and one in the moved-away directory is not the registry's.
    append(dir.path() / "old" / "lscgate.db", "z");
    EXPECT_FALSE(settle_changed());
}

TEST_F(RegistryWatchTest, BlindWhileTheDirectoryIsGoneThenWatchingAgain) {
    std::filesystem::rename(dir.path() / "capf", dir.path() / "away");
    EXPECT_TRUE(watch->settle().changed());
    EXPECT_TRUE(watch->blind());
    std::uint64_t g = 0;
    EXPECT_FALSE(watch->quiet(g));
    EXPECT_FALSE(watch->settle().changed());  // still nothing to watch
    std::filesystem::rename(dir.path() / "away", dir.path() / "capf");
    EXPECT_TRUE(watch->settle().changed());
    EXPECT_FALSE(watch->blind());
    EXPECT_TRUE(watch->quiet(g));
    append(db, "z");
    EXPECT_TRUE(settle_changed());
}

TEST_F(RegistryWatchTest, NotQuietWhileSomeoneSettles) {
    auto settling = watch->settle();
    std::uint64_t g = 0;
    EXPECT_FALSE(watch->quiet(g)) << "the queue is empty, but the files are still being checked";
}

TEST(RegistryWatch, APathThroughASymbolicLinkIsNotWatched) {
    test::TempDir dir;
    std::filesystem::create_directories(dir.path() / "real");
    append(dir.path() / "real" / "lscgate.db", "x");
    std::filesystem::create_directory_symlink(dir.path() / "real", dir.path() / "link");
    EXPECT_EQ(RegistryWatch::open((dir.path() / "link" / "lscgate.db").string()), nullptr);
}

}  // namespace
