#include "capf/open_files.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace lscgate::capf {

namespace {

// File descriptors kept back from the sessions' sockets: the registry
// connections (an SQLite one holds the database, -wal and -shm), the listening
// sockets (CAPF, CRL HTTP, metrics), the log, the epoll and eventfd of the loop.
constexpr std::uint64_t kReservedDescriptors = 256;

}  // namespace

std::uint64_t raise_open_file_limit(std::string& note) {
    note.clear();
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        note = std::string("cannot read RLIMIT_NOFILE: ") + std::strerror(errno);
        return 1024;
    }
    if (limit.rlim_cur >= limit.rlim_max) return limit.rlim_cur;
    const rlim_t before = limit.rlim_cur;
    rlimit wanted = limit;
    wanted.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &wanted) != 0) {
        note = "could not raise it to the hard limit " + std::to_string(limit.rlim_max) + ": " + std::strerror(errno);
        return limit.rlim_cur;
    }
    note = "raised from " + std::to_string(before);
    return wanted.rlim_cur;
}

DescriptorRoom descriptor_room(int max_sessions) {
    std::string note;
    const std::uint64_t limit = raise_open_file_limit(note);
    const std::uint64_t room = limit > kReservedDescriptors ? limit - kReservedDescriptors : 1;
    const int sessions = room < static_cast<std::uint64_t>(max_sessions) ? static_cast<int>(room) : max_sessions;
    const std::string said = note.empty() ? "" : " (" + note + ")";
    std::string line;
    if (sessions < max_sessions)
        line = "capf warning: max_sessions=" + std::to_string(max_sessions) + " but RLIMIT_NOFILE=" +
               std::to_string(limit) + said + " leaves room for " + std::to_string(sessions) +
               " sessions: at most that many run at once (raise LimitNOFILE= of the service)";
    else if (!note.empty())
        line = "capf file descriptors: RLIMIT_NOFILE=" + std::to_string(limit) + said;
    return {sessions, line};
}

}  // namespace lscgate::capf
