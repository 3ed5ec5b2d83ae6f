#pragma once

// RegistryWatch: "has anything touched the registry's files since?" for the price
// of one poll() (Linux inotify), so that the SQLite reader can answer a remembered
// row without starting a read transaction, and skip the three stat() calls that
// prove the path still names the files it reads (registry_files.h), while nothing
// happens to those files.
//
// What it watches: the directory holding the registry for writes to, and creation,
// deletion and renaming of, lscgate.db, -wal and -shm (a directory watch reports
// writes to its entries); that directory and every directory above it for being
// moved or deleted. Every SQLite commit writes the -wal (or, without WAL, the
// database file) with write() before it returns, and the kernel queues the event
// inside that system call: so a lookup that starts after a commit returned finds
// the event queued, or finds someone handling it (pending), and reads again.
//
// Not seen (so open() refuses, and the reader stays on its per-request checks):
// a path that goes through a symbolic link (the link could be re-pointed without
// an event here). Not seen either, and unsupported by SQLite anyway: writes
// through a hard link in another directory, or from another host.
//
// Thread-safe: quiet() from any number of threads; settle() serialises itself.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace lscgate {

class RegistryWatch {
public:
    /// A watch on the registry file `db_path` (absolute or relative; it must
    /// exist). nullptr when inotify is unavailable (no instance or watch left:
    /// fs.inotify limits) or the path contains a symbolic link: the caller then
    /// checks the files on every request, as before.
    static std::unique_ptr<RegistryWatch> open(const std::string& db_path);
    ~RegistryWatch();
    RegistryWatch(const RegistryWatch&) = delete;
    RegistryWatch& operator=(const RegistryWatch&) = delete;

    /// True when no event is queued and no settle() is running: everything read
    /// while generation() had the value this call stores in `generation` is still
    /// what the files hold. One poll() system call. Order matters (see the .cpp):
    /// the generation is read after the queue was seen empty.
    bool quiet(std::uint64_t& generation) const;

    /// The slow path: takes the queued events. Returns true when one concerned the
    /// registry's files or the directories above them (or the queue overflowed):
    /// the generation has then advanced, every row read before is stale, and the
    /// caller must check the files (RegistryFiles) before reading again. While a
    /// settle() runs, and until the caller's Settling guard ends, quiet() is false.
    class Settling;
    Settling settle();

    /// The current generation (advanced by every settle() that saw a change).
    std::uint64_t generation() const { return generation_.load(); }

    /// A watch could not be re-added after a directory moved: changes may go
    /// unseen, so no row may be trusted by generation until a settle() re-adds it.
    bool blind() const { return blind_.load(); }

private:
    RegistryWatch(int fd, std::string dir, std::string name) : fd_(fd), dir_(std::move(dir)), name_(std::move(name)) {}
    bool arm();            // (re)adds every watch by path; false: a watch could not be added
    bool drain_changed();  // reads every queued event; true: one concerned the registry

    int fd_;
    const std::string dir_;   // the directory holding the registry
    const std::string name_;  // the registry file's name in it
    int dir_wd_ = -1;         // the full-mask watch on dir_
    std::vector<int> ancestor_wds_;  // dir_'s parents (moved or deleted only)
    std::atomic<std::uint64_t> generation_{0};
    std::atomic<int> pending_{0};  // settle() calls in progress (quiet() is false meanwhile)
    std::atomic<bool> blind_{false};  // a watch could not be re-added: never quiet again
    std::mutex settle_mutex_;
};

/// Ends a settle(): from then on quiet() can be true again. Hold it until the
/// files were checked (and the connections reopened if they changed).
class RegistryWatch::Settling {
public:
    Settling(Settling&& o) noexcept : watch_(o.watch_), changed_(o.changed_) { o.watch_ = nullptr; }
    Settling(const Settling&) = delete;
    Settling& operator=(const Settling&) = delete;
    Settling& operator=(Settling&&) = delete;
    ~Settling() {
        if (watch_ != nullptr) watch_->pending_.fetch_sub(1);
    }
    /// An event concerned the registry: rows read before are stale, check the files.
    bool changed() const { return changed_; }

private:
    friend class RegistryWatch;
    // Raised before the queue is read: quiet() must never see it empty with nobody pending.
    explicit Settling(RegistryWatch* w) : watch_(w) { watch_->pending_.fetch_add(1); }
    RegistryWatch* watch_;
    bool changed_ = false;
};

}  // namespace lscgate
