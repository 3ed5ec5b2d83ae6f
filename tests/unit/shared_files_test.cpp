// Files lscgate creates for others to use (issue 13): the Debian package's
// conffile is exactly what `lscgate init` writes, and files root creates in a
// directory another user owns (the packaged /var/lib/lscgate, lscgate:lscgate
// 2770) go to that user, the SQLite registry group-writable, so that the
// service (user lscgate) and FreeRADIUS (freerad, in group lscgate) can use them.

#include "pki/secure_file.h"
#include "registry/config.h"
#include "registry/store.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace lscgate {
namespace {

constexpr uid_t kOwner = 65534;  // nobody: any uid but root's
constexpr gid_t kGroup = 65534;

struct stat stat_of(const std::filesystem::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st;
}

// A file written next to names others may plant (a directory the FreeRADIUS
// group can write): the temporary file is always a new one of our own, never
// an existing name - the old predictable FILE.tmp.<pid>, planted as a symlink
// to another file, made a root CLI overwrite (and chown) that file.
TEST(SharedFiles, AtomicWritesNeverFollowAPlantedTemporaryName) {
    test::TempDir dir;
    const auto victim = dir / "victim";
    {
        std::ofstream(victim) << "untouched";
    }
    const auto target = dir / "capf.crl";
    const auto planted = target.string() + ".tmp." + std::to_string(::getpid());
    ASSERT_EQ(::symlink(victim.c_str(), planted.c_str()), 0);
    ASSERT_TRUE(write_file_atomically(target, "new content", FileMode::Public));
    std::ifstream v(victim), t(target);
    std::stringstream vs, ts;
    vs << v.rdbuf();
    ts << t.rdbuf();
    EXPECT_EQ(vs.str(), "untouched");
    EXPECT_EQ(ts.str(), "new content");
    EXPECT_EQ(stat_of(target).st_mode & 07777, 0644u);
}

TEST(SharedFiles, PackagedConfigurationIsWhatInitWrites) {
    std::ifstream in(std::string(LSCGATE_SOURCE_DIR) + "/policy/lscgate.toml");
    ASSERT_TRUE(in) << "policy/lscgate.toml (the Debian conffile /etc/lscgate/lscgate.toml)";
    std::ostringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str(), default_config_text()) << "regenerate policy/lscgate.toml from default_config_text()";
}

class RootOwnedElsewhere : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown)";
        ASSERT_EQ(::chown(dir.path().c_str(), kOwner, kGroup), 0);
    }
    test::TempDir dir;
};

TEST_F(RootOwnedElsewhere, SecretWrittenByRootGoesToTheDirectoryOwner) {
    ASSERT_EQ(::chmod(dir.path().c_str(), 0750), 0);
    ASSERT_TRUE(write_file_atomically(dir / "capf.key", "secret", FileMode::Secret));
    const auto st = stat_of(dir / "capf.key");
    EXPECT_EQ(st.st_uid, kOwner);
    EXPECT_EQ(st.st_gid, kGroup);
    EXPECT_EQ(st.st_mode & 07777, 0600U);
}

TEST_F(RootOwnedElsewhere, RegistryInAGroupWritableDirectoryIsSharedWithTheGroup) {
    ASSERT_EQ(::chmod(dir.path().c_str(), 02770), 0);
    const auto db = dir / "lscgate.db";
    {
        auto store = Store::open(db.string(), Store::OpenMode::CreateAndMigrate);
        ASSERT_TRUE(store) << store.message();
        ASSERT_TRUE(store->add_device("SEP001122334455", "", "", "test"));
        // The WAL companions, created after the file was handed over, follow it.
        for (const char* companion : {"-wal", "-shm"}) {
            const auto st = stat_of(db.string() + companion);
            EXPECT_EQ(st.st_uid, kOwner) << companion;
            EXPECT_EQ(st.st_gid, kGroup) << companion;
            EXPECT_EQ(st.st_mode & 0777, 0660U) << companion;
        }
    }
    const auto st = stat_of(db);
    EXPECT_EQ(st.st_uid, kOwner);
    EXPECT_EQ(st.st_gid, kGroup);
    EXPECT_EQ(st.st_mode & 0777, 0660U);
}

TEST(SharedFiles, RegistryInAPrivateDirectoryKeepsItsMode) {
    test::TempDir dir;
    ASSERT_EQ(::chmod(dir.path().c_str(), 0700), 0);
    const auto db = dir / "lscgate.db";
    ASSERT_TRUE(Store::open(db.string(), Store::OpenMode::CreateAndMigrate));
    EXPECT_EQ(stat_of(db).st_mode & S_IWGRP, 0U) << "no group write outside a group-writable directory";
}

}  // namespace
}  // namespace lscgate
