#pragma once

// The registry connections of `lscgate serve`, shared by its worker threads.

#include "pki/result.h"
#include "registry/registry_files.h"
#include "registry/store.h"

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace lscgate::capf {

// Registry connections are reused across sessions: opening SQLite, setting the
// pragmas and preparing statements per phone would dominate a busy server.
//
// The pool also watches the files its connections write (the same check the
// RADIUS reader makes per request, registry/registry_files.h): a registry moved
// over, deleted and restored, cut short, or whose -wal/-shm were deleted while
// serve had it open would take every LSC serve records into a file nobody else
// reads (a phone would hold an LSC RADIUS never sees). SQLite shares one WAL
// index per database inode inside a process, so reopening safely would need
// every connection of this process closed first; serve refuses CAPF sessions
// instead (fail closed, nothing issued) until it is restarted. A registry on
// PostgreSQL has no files here to watch (path_ is a conninfo): never checked.
class StorePool {
public:
    /// `path`: the registry (an SQLite file or a PostgreSQL conninfo).
    explicit StorePool(std::string path);
    /// A connection of this process (an idle one, or newly opened), or an error:
    /// Unavailable once the registry files changed under the server (then for
    /// good), the registry's error when it cannot be opened. Any thread.
    Result<Store> acquire();
    /// Gives a connection back for reuse (kept only while fewer than kMaxIdle are idle).
    void release(Store store);
    /// Unavailable when the registry files changed since the first connection
    /// (the check acquire makes, without a connection: a few stat(2) calls, cheap
    /// enough for the event loop); the reason is kept, as by acquire.
    Status check();

private:
    static constexpr std::size_t kMaxIdle = 32;  // at least the worker threads (capf/work_pool.h)
    std::string path_;
    bool sqlite_;  // the registry is an SQLite file (else a PostgreSQL conninfo)
    std::mutex mutex_;
    std::vector<Store> idle_;
    std::shared_ptr<std::mutex> writer_ = std::make_shared<std::mutex>();
    bool watching_ = false;
    RegistryFiles opened_;   // the files when the first connection was opened
    RegistryFiles largest_;  // the largest db/-shm sizes seen since (they only grow)
    std::string broken_;     // non-empty: why no session may write
    // The files check of acquire/check, under mutex_: broken_ set on a change.
    Status check_files_locked(const RegistryFiles& now);
};


}  // namespace lscgate::capf
