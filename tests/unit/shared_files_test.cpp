// Files lscgate creates for others to use (issue 13): the Debian package's
// conffile is exactly what `lscgate init` writes, and files root creates in a
// directory another user owns (the packaged /var/lib/lscgate, lscgate:lscgate
// 2750) go to that user, the SQLite registry readable (never writable) by the
// group, so that the service (user lscgate) writes it and FreeRADIUS (freerad, in
// group lscgate) only reads it.

#include "pki/secure_file.h"
#include "registry/config.h"
#include "registry/registry_reader.h"
#include "registry/store.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

// The registry and its WAL companions as the packaged directory (2750) leaves
// them: the service's, group-readable, never group-writable; -wal/-shm outlive
// the last writer (persistent WAL), so a reader never has to create them.
void expect_registry_readable_by_group_only(const std::filesystem::path& db) {
    for (const char* suffix : {"", "-wal", "-shm"}) {
        const auto st = stat_of(db.string() + suffix);
        EXPECT_EQ(st.st_uid, kOwner) << suffix;
        EXPECT_EQ(st.st_gid, kGroup) << suffix;
        EXPECT_EQ(st.st_mode & 0777, 0640U) << "lscgate.db" << suffix;
    }
}

TEST_F(RootOwnedElsewhere, RegistryInTheGroupReadableDirectoryIsReadOnlyForTheGroup) {
    ASSERT_EQ(::chmod(dir.path().c_str(), 02750), 0);
    const auto db = dir / "lscgate.db";
    {
        auto store = Store::open(db.string(), Store::OpenMode::CreateAndMigrate);
        ASSERT_TRUE(store) << store.message();
        ASSERT_TRUE(store->add_device("SEP001122334455", "", "", "test"));
        expect_registry_readable_by_group_only(db);
    }
    expect_registry_readable_by_group_only(db);
    EXPECT_EQ(stat_of(db.string() + "-wal").st_size, 0) << "the last writer checkpointed and kept an empty WAL";
}

TEST_F(RootOwnedElsewhere, RegistryIsNeverGroupWritableEvenInAGroupWritableDirectory) {
    ASSERT_EQ(::chmod(dir.path().c_str(), 02770), 0);
    const auto db = dir / "lscgate.db";
    {
        auto store = Store::open(db.string(), Store::OpenMode::CreateAndMigrate);
        ASSERT_TRUE(store) << store.message();
        ASSERT_TRUE(store->add_device("SEP001122334455", "", "", "test"));
    }
    expect_registry_readable_by_group_only(db);
}

// In a child process as a user of the registry's group that may write nothing
// (FreeRADIUS's freerad in the packaged layout): the exit code says what failed.
int read_as_group_member(const std::filesystem::path& db) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        const gid_t groups[] = {kGroup};
        if (::setgroups(1, groups) != 0 || ::setgid(kGroup) != 0 || ::setuid(kOwner - 1) != 0) ::_exit(10);
        if (::access(db.c_str(), W_OK) == 0 || ::access(db.parent_path().c_str(), W_OK) == 0 ||
            ::access((db.string() + "-shm").c_str(), W_OK) == 0)
            ::_exit(11);  // the layout under test would let the reader write
        auto reader = RegistryReader::open(db.string(), 1);
        if (!reader) ::_exit(12);
        auto lsc = (*reader)->current_lsc("SEP001122334455", 0);
        if (!lsc || *lsc) ::_exit(13);
        auto capfs = (*reader)->trusted_capf_certificates();
        ::_exit(capfs && capfs->empty() ? 0 : 14);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

TEST_F(RootOwnedElsewhere, AGroupMemberThatMayWriteNothingReadsTheRegistry) {
    ASSERT_EQ(::chmod(dir.path().c_str(), 02750), 0);
    const auto db = dir / "lscgate.db";
    {
        auto store = Store::open(db.string(), Store::OpenMode::CreateAndMigrate);
        ASSERT_TRUE(store) << store.message();
        ASSERT_TRUE(store->add_device("SEP001122334455", "", "", "test"));
        // While the service holds the registry (SQLite maps -shm read-only for the reader)...
        EXPECT_EQ(read_as_group_member(db), 0);
    }
    // ...and with no writer at all (the reader rebuilds the index from the WAL in memory).
    EXPECT_EQ(read_as_group_member(db), 0);
}

TEST(SharedFiles, RegistryInAPrivateDirectoryKeepsItsMode) {
    test::TempDir dir;
    ASSERT_EQ(::chmod(dir.path().c_str(), 0700), 0);
    const auto db = dir / "lscgate.db";
    ASSERT_TRUE(Store::open(db.string(), Store::OpenMode::CreateAndMigrate));
    EXPECT_EQ(stat_of(db).st_mode & S_IWGRP, 0U) << "no group write";
}

}  // namespace
}  // namespace lscgate
