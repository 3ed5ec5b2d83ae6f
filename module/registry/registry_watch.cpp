#include "registry/registry_watch.h"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace lscgate {
namespace {

// On the registry's directory: its entries written (truncation included),
// created, deleted or renamed, and the directory itself moved or deleted.
constexpr std::uint32_t kDirMask = IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                                   IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
// On every directory above it: only being moved or deleted (their other entries
// are none of our business, and a busy /tmp would keep every request slow).
constexpr std::uint32_t kAncestorMask = IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

bool has_symlink(const std::filesystem::path& absolute) {
    std::filesystem::path walked;
    for (const auto& part : absolute) {
        walked /= part;
        struct stat st {};
        if (::lstat(walked.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) return true;
    }
    return false;
}

}  // namespace

std::unique_ptr<RegistryWatch> RegistryWatch::open(const std::string& db_path) {
    std::error_code ec;
    const std::filesystem::path absolute = std::filesystem::absolute(db_path, ec).lexically_normal();
    if (ec || absolute.filename().empty() || has_symlink(absolute)) return nullptr;
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return nullptr;
    // The constructor is private: no make_unique. The fd is owned from here on.
    std::unique_ptr<RegistryWatch> w(new RegistryWatch(fd, absolute.parent_path().string(), absolute.filename().string()));
    if (!w->arm()) return nullptr;
    return w;
}

RegistryWatch::~RegistryWatch() { ::close(fd_); }

bool RegistryWatch::arm() {
    // inotify_add_watch on a path already watched returns the same descriptor, so
    // re-arming after a move points every watch at what the path names now.
    dir_wd_ = ::inotify_add_watch(fd_, dir_.c_str(), kDirMask);
    if (dir_wd_ < 0) return false;
    ancestor_wds_.clear();
    std::filesystem::path p(dir_);
    while (p.has_relative_path()) {
        p = p.parent_path();
        const int wd = ::inotify_add_watch(fd_, p.c_str(), kAncestorMask);
        if (wd < 0) return false;
        ancestor_wds_.push_back(wd);
    }
    return true;
}

bool RegistryWatch::quiet(std::uint64_t& generation) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) != 0) return false;  // an event queued (or poll failed): not quiet
    // Read after the queue was seen empty: if another thread took the event, it
    // raised pending_ before reading it, and only lowers it once the files were
    // checked - by then the generation it advanced is what is read here.
    if (pending_.load() != 0 || blind_.load()) return false;
    generation = generation_.load();
    return true;
}

bool RegistryWatch::drain_changed() {
    bool changed = false, rearm = false;
    alignas(inotify_event) char buf[16384];
    while (true) {
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // EAGAIN: the queue is empty
        for (ssize_t off = 0; off < n;) {
            const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
            off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
            const std::string_view name = ev->len > 0 ? std::string_view(ev->name) : std::string_view();
            if ((ev->mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0) {
                changed = rearm = true;  // lost events, or a directory on the path moved: watch what the path names now
            } else if (ev->wd == dir_wd_ && name.substr(0, name_.size()) == name_) {
                const std::string_view rest = name.substr(name_.size());
                if (rest.empty() || rest == "-wal" || rest == "-shm") changed = true;
            }
        }
    }
    // A watch that cannot be re-added (the directory is gone for now, or
    // fs.inotify.max_user_watches) would leave changes unseen: until settle()
    // manages to re-add it, every lookup takes the slow path.
    if (rearm && !arm()) blind_.store(true);
    return changed;
}

RegistryWatch::Settling RegistryWatch::settle() {
    Settling s(this);
    std::lock_guard lock(settle_mutex_);
    s.changed_ = drain_changed();
    // Watching again after being blind: whatever was remembered before may have
    // changed unseen (rows read while blind were not trusted by generation).
    if (blind_.load() && arm()) {
        blind_.store(false);
        s.changed_ = true;
    }
    if (s.changed_) generation_.fetch_add(1);
    return s;
}

}  // namespace lscgate
