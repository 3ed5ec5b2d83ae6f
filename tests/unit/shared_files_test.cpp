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

// A child process joined through two pipes. The parent of these tests never
// opens the registry itself: a child forked from a process holding SQLite
// connections would share its locks and -shm mapping (SQLite's per-inode
// state), and would not read the way FreeRADIUS does.
class Child {
public:
    template <class F>
    explicit Child(F body) {
        int down[2], up[2];
        EXPECT_EQ(::pipe(down), 0);
        EXPECT_EQ(::pipe(up), 0);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::close(down[1]);
            ::close(up[0]);
            ::_exit(body(down[0], up[1]));
        }
        ::close(down[0]);
        ::close(up[1]);
        to_ = down[1];
        from_ = up[0];
    }
    ~Child() { (void)join(); }
    void send(char c) { EXPECT_EQ(::write(to_, &c, 1), 1); }
    // The next byte the child sends; '\0' when it exited without one.
    char receive() {
        char c = 0;
        return ::read(from_, &c, 1) == 1 ? c : '\0';
    }
    // Its exit code (100 + signal when killed).
    int join() {
        if (pid_ <= 0) return code_;
        ::close(to_);
        ::close(from_);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = 0;
        code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
        return code_;
    }

private:
    pid_t pid_ = 0;
    int to_ = -1, from_ = -1, code_ = -1;
};

void put(int fd, char c) { (void)!::write(fd, &c, 1); }
char get(int fd) {
    char c = 0;
    return ::read(fd, &c, 1) == 1 ? c : '\0';
}

// The writer: adds `capf` to the registry as root; then, per `end`, leaves
// without closing ('k', as if killed: the WAL keeps the commit), or reports 'w'
// and waits for a byte before closing ('h', holding the registry open), or closes.
int write_capf(const std::filesystem::path& db, const X509* capf, char end, int in, int out) {
    auto store = Store::open(db.string(), Store::OpenMode::CreateAndMigrate);
    if (!store || !store->add_capf_certificate(capf, "test")) return 20;
    if (end == 'k') ::_exit(0);
    if (end == 'h') {
        put(out, 'w');
        (void)get(in);
    }
    return 0;
}

// As a user of the registry's group that may write nothing (FreeRADIUS's freerad
// in the packaged layout): the number of trusted CAPF certificates the reader
// sees, sent as one byte '0' + n; after 'again' reads, waiting for a byte before
// each further one, so the parent can write in between.
int read_as_group_member(const std::filesystem::path& db, int again, int in, int out) {
    const gid_t groups[] = {kGroup};
    if (::setgroups(1, groups) != 0 || ::setgid(kGroup) != 0 || ::setuid(kOwner - 1) != 0) return 10;
    if (::access(db.c_str(), W_OK) == 0 || ::access(db.parent_path().c_str(), W_OK) == 0 ||
        ::access((db.string() + "-shm").c_str(), W_OK) == 0)
        return 11;  // the layout under test would let the reader write
    auto reader = RegistryReader::open(db.string(), 1);
    if (!reader) return 12;
    for (int i = 0; i <= again; ++i) {
        if (i > 0) (void)get(in);
        auto capfs = (*reader)->trusted_capf_certificates();
        if (!capfs) return 13;
        put(out, static_cast<char>('0' + capfs->size()));
    }
    return 0;
}

TEST_F(RootOwnedElsewhere, AGroupMemberThatMayWriteNothingReadsTheRegistryAndFollowsItsWriters) {
    ASSERT_EQ(::chmod(dir.path().c_str(), 02750), 0);
    const auto db = dir / "lscgate.db";
    const test::TestCa capf[] = {test::make_root_ca("CN=CAPF-1", "ec:p256"), test::make_root_ca("CN=CAPF-2", "ec:p256"),
                                 test::make_root_ca("CN=CAPF-3", "ec:p256")};
    // 1. The only writer dies after its commit: a WAL with content, no writer at all.
    ASSERT_EQ(Child([&](int in, int out) { return write_capf(db, capf[0].cert.get(), 'k', in, out); }).join(), 0);
    ASSERT_GT(std::filesystem::file_size(db.string() + "-wal"), 0u);
    expect_registry_readable_by_group_only(db);
    {
        Child reader([&](int in, int out) { return read_as_group_member(db, 0, in, out); });
        EXPECT_EQ(reader.receive(), '1') << "read with no writer, from a WAL it may not index in -shm";
        EXPECT_EQ(reader.join(), 0);
    }
    // 2. A writer holds the registry open (SQLite maps -shm read-only for the reader).
    {
        Child writer([&](int in, int out) { return write_capf(db, capf[1].cert.get(), 'h', in, out); });
        ASSERT_EQ(writer.receive(), 'w');
        Child reader([&](int in, int out) { return read_as_group_member(db, 0, in, out); });
        EXPECT_EQ(reader.receive(), '2') << "read beside a live writer";
        EXPECT_EQ(reader.join(), 0);
        writer.send('x');
        EXPECT_EQ(writer.join(), 0);
    }
    // 3. The reader is open first; a writer comes and goes; the reader sees its commit.
    Child reader([&](int in, int out) { return read_as_group_member(db, 1, in, out); });
    EXPECT_EQ(reader.receive(), '2');
    ASSERT_EQ(Child([&](int in, int out) { return write_capf(db, capf[2].cert.get(), 'c', in, out); }).join(), 0);
    reader.send('x');
    EXPECT_EQ(reader.receive(), '3') << "a commit made after the reader opened";
    EXPECT_EQ(reader.join(), 0);
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
