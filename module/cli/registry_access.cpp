#include "cli/registry_access.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <vector>

namespace lscgate {
namespace {

struct Probe {
    std::string path;
    int mode;       // R_OK, W_OK or X_OK
    bool RegistryAccess::*answer;
};

std::array<Probe, 8> probes_for(const std::string& db) {
    const std::filesystem::path p(db);
    const std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
    return {{{db, R_OK, &RegistryAccess::read_db},
             {db + "-wal", R_OK, &RegistryAccess::read_wal},
             {db + "-shm", R_OK, &RegistryAccess::read_shm},
             {dir, X_OK, &RegistryAccess::search_dir},
             {db, W_OK, &RegistryAccess::write_db},
             {db + "-wal", W_OK, &RegistryAccess::write_wal},
             {db + "-shm", W_OK, &RegistryAccess::write_shm},
             {dir, W_OK, &RegistryAccess::write_dir}}};
}

// The mode bits' answer for `pw` (owner, then group - primary or member - then
// others, as the kernel orders them; ACLs unseen). R_OK/W_OK/X_OK are the rwx bits.
bool mode_allows(const passwd& pw, const std::string& path, int mode) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return false;
    bool in_group = st.st_gid == pw.pw_gid;
    if (const group* g = ::getgrgid(st.st_gid); g != nullptr)
        for (char** m = g->gr_mem; m != nullptr && *m != nullptr; ++m) in_group = in_group || std::strcmp(*m, pw.pw_name) == 0;
    const int shift = st.st_uid == pw.pw_uid ? 6 : in_group ? 3 : 0;
    const auto want = static_cast<unsigned>(mode);
    return ((static_cast<unsigned>(st.st_mode) >> shift) & want) == want;
}

// In a child that became the user (groups, gid, uid; resolved by the parent so
// that the child, forked from a process that may run threads, only makes
// async-signal-safe calls): one byte per probe on `out`.
[[noreturn]] void probe_as(uid_t uid, gid_t gid, const std::vector<gid_t>& groups, const std::array<Probe, 8>& probes,
                           int out) {
    if (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(2);
    std::array<char, 8> answers{};
    for (std::size_t i = 0; i < probes.size(); ++i)
        answers[i] = ::faccessat(AT_FDCWD, probes[i].path.c_str(), probes[i].mode, AT_EACCESS) == 0 ? 1 : 0;
    const bool written = ::write(out, answers.data(), answers.size()) == static_cast<ssize_t>(answers.size());
    ::_exit(written ? 0 : 3);
}

// The user's groups (primary included), as initgroups would set them.
std::vector<gid_t> groups_of(const passwd& pw) {
    int n = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    if (::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n) < 0) {
        groups.resize(static_cast<std::size_t>(n));
        if (::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n) < 0) n = 0;
    }
    groups.resize(static_cast<std::size_t>(std::max(n, 0)));
    return groups;
}

}  // namespace

Result<RegistryAccess> registry_access_of(const std::string& user, const std::string& db) {
    const passwd* pw = ::getpwnam(user.c_str());
    if (pw == nullptr) return fail(ErrorKind::Config, "no user " + user + " on this host");
    RegistryAccess access;
    struct stat st {};
    access.wal_present = ::stat((db + "-wal").c_str(), &st) == 0;
    access.shm_present = ::stat((db + "-shm").c_str(), &st) == 0;
    const auto probes = probes_for(db);
    if (::geteuid() != 0 || pw->pw_uid == 0) {
        for (const auto& p : probes) access.*p.answer = pw->pw_uid == 0 || mode_allows(*pw, p.path, p.mode);
        access.by_kernel = pw->pw_uid == 0;
        return access;
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return fail("cannot check access as " + user + ": " + std::strerror(errno));
    const uid_t uid = pw->pw_uid;
    const gid_t gid = pw->pw_gid;
    const std::vector<gid_t> groups = groups_of(*pw);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        probe_as(uid, gid, groups, probes, fds[1]);
    }
    ::close(fds[1]);
    std::array<char, 8> answers{};
    std::size_t got = 0;
    while (pid > 0 && got < answers.size()) {
        const ssize_t n = ::read(fds[0], answers.data() + got, answers.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    ::close(fds[0]);
    int status = 0;
    if (pid > 0) ::waitpid(pid, &status, 0);
    if (pid < 0 || got != answers.size() || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return fail("cannot check access as " + user + " (the probe process failed)");
    for (std::size_t i = 0; i < probes.size(); ++i) access.*probes[i].answer = answers[i] != 0;
    access.by_kernel = true;
    return access;
}

}  // namespace lscgate
