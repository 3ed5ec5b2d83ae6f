#include "capf/store_pool.h"

#include "registry/database_kind.h"

#include <algorithm>

namespace lscgate::capf {

StorePool::StorePool(std::string path) : path_(std::move(path)), sqlite_(!is_postgresql_database(path_)) {}

Status StorePool::check_files_locked(const RegistryFiles& now) {
    if (!broken_.empty()) return fail(ErrorKind::Unavailable, broken_);
    if (!watching_) return {};
    const FilesVerdict v = compare_registry_files(opened_, largest_, now);
    if (v.change != FilesChange::Same) {
        broken_ = "registry " + path_ + ": " + v.cause +
                  " while lscgate serve had it open; refusing CAPF sessions (nothing is issued) until "
                  "lscgate serve is restarted";
        idle_.clear();
        return fail(ErrorKind::Unavailable, broken_);
    }
    largest_.db_size = std::max(largest_.db_size, now.db_size);
    largest_.shm_size = std::max(largest_.shm_size, now.shm_size);
    return {};
}

// The files are looked at under the mutex: sizes only grow, so a look taken
// before another thread's later one but compared after it would read as a
// shrink (and refuse every session until a restart).
Status StorePool::check() {
    std::lock_guard lock(mutex_);
    return check_files_locked(sqlite_ ? RegistryFiles::of(path_) : RegistryFiles{});
}

Result<Store> StorePool::acquire() {
    {
        std::lock_guard lock(mutex_);
        if (auto s = check_files_locked(sqlite_ ? RegistryFiles::of(path_) : RegistryFiles{}); !s) return s.error();
        if (!idle_.empty()) {
            Store s = std::move(idle_.back());
            idle_.pop_back();
            return s;
        }
    }
    auto store = Store::open(path_);
    if (!store) return store;
    store->set_writer_lock(writer_);
    std::lock_guard lock(mutex_);
    if (sqlite_ && !watching_) {
        // The files as this process first wrote them (the connection just
        // opened holds -wal/-shm; serve's trust reader keeps them open).
        opened_ = largest_ = RegistryFiles::of(path_);
        watching_ = true;
    }
    return store;
}

void StorePool::release(Store store) {
    std::lock_guard lock(mutex_);
    if (broken_.empty() && idle_.size() < kMaxIdle) idle_.push_back(std::move(store));
}

}  // namespace lscgate::capf
