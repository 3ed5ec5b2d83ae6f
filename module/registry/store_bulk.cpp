// Bulk writes from the CLI (`device add`, `op install` with thousands of names)
// in bounded transactions: the writer lock is held for one chunk at a time, so
// the CAPF server recording an LSC never waits past its busy timeout (issue 7
// item 4: 60 000 names in one transaction made it fail with "database is locked").

#include "registry/store.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <unordered_set>

namespace lscgate {
namespace {

// SQLite's default busy handler (sqliteDefaultBusyCallback in main.c) retries a
// locked write after 1, 2, 5 ... 50, then every 100 ms: a writer that starts its
// next chunk at once after each commit would keep the lock nearly all the time,
// and another process's writer would keep waking up to find it taken. After each
// chunk the lock is left free for as long as the chunk held it, up to one full
// retry interval, so waiting writers get in.
constexpr std::chrono::milliseconds kLongestBusyRetry{100};

// Runs `write(i)` for i in [0, n) in transactions of `chunk` items; `done(i)`
// after each chunk commits, for every item of it. Stops at the first error; when
// one item's write failed (a name another writer added meanwhile), `failed_at`
// names it, so the caller can point at its input line.
template <class Write, class Done>
std::optional<Error> in_chunks(Store& store, std::size_t n, std::size_t chunk, Write write, Done done,
                               std::optional<std::size_t>& failed_at) {
    chunk = std::max<std::size_t>(1, chunk);
    for (std::size_t start = 0; start < n; start += chunk) {
        const std::size_t end = std::min(n, start + chunk);
        const auto began = std::chrono::steady_clock::now();
        auto tx = store.transaction();
        if (!tx) return tx.error();
        for (std::size_t i = start; i < end; ++i)
            if (auto s = write(i); !s) {
                failed_at = i;
                return s.error();
            }
        if (auto s = tx->commit(); !s) return s.error();
        for (std::size_t i = start; i < end; ++i) done(i);
        if (end < n) {
            const auto held = std::chrono::steady_clock::now() - began;
            std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(held, kLongestBusyRetry));
        }
    }
    return std::nullopt;
}

}  // namespace

BulkResult<Device> Store::add_devices(const std::vector<std::string>& names, const std::string& model,
                                      const std::string& description, const std::string& actor, std::size_t chunk) {
    std::vector<NewDevice> devices;
    devices.reserve(names.size());
    for (const auto& name : names) devices.push_back({name, model, description});
    return add_devices(devices, actor, chunk);
}

BulkResult<Device> Store::add_devices(const std::vector<NewDevice>& devices, const std::string& actor, std::size_t chunk) {
    BulkResult<Device> out;
    // Checked before anything is written, outside any write transaction (WAL
    // readers never block the writer): the common mistakes add nothing.
    std::unordered_set<std::string> seen;
    for (std::size_t i = 0; i < devices.size(); ++i) {
        const auto& d = devices[i];
        out.failed_at = i;  // cleared below when every device passes
        if (!seen.insert(d.name).second) {
            out.error = fail(ErrorKind::Input, "device " + d.name + " is listed twice");
            return out;
        }
        auto existing = find_device(d.name);
        if (!existing) {
            out.error = existing.error();
            return out;
        }
        if (existing->has_value()) {
            out.error = fail(ErrorKind::Input, "device " + d.name + " already exists");
            return out;
        }
    }
    out.failed_at.reset();
    std::vector<Device> added(devices.size());
    out.error = in_chunks(
        *this, devices.size(), chunk,
        [&](std::size_t i) -> Status {
            auto d = add_device(devices[i].name, devices[i].model, devices[i].description, actor);
            if (!d) return d.error();
            added[i] = std::move(*d);
            return {};
        },
        [&](std::size_t i) { out.done.push_back(std::move(added[i])); }, out.failed_at);
    return out;
}

BulkResult<Operation> Store::schedule_operations(const std::vector<std::pair<std::string, OperationRequest>>& items,
                                                 const std::string& actor, std::size_t chunk) {
    BulkResult<Operation> out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const std::string& name = items[i].first;
        auto dev = find_device(name);
        if (!dev) {
            out.error = dev.error();
            out.failed_at = i;
            return out;
        }
        if (!dev->has_value()) {
            out.error = fail(ErrorKind::Input, "no such device: " + name + " (add it with 'lscgate device add')");
            out.failed_at = i;
            return out;
        }
    }
    std::vector<Operation> scheduled(items.size());
    out.error = in_chunks(
        *this, items.size(), chunk,
        [&](std::size_t i) -> Status {
            auto op = schedule_operation(items[i].first, items[i].second, actor);
            if (!op) return op.error();
            scheduled[i] = std::move(*op);
            return {};
        },
        [&](std::size_t i) { out.done.push_back(std::move(scheduled[i])); }, out.failed_at);
    return out;
}

// Checks every name before anything is written: each must be a registered
// device, and with `open_operation_needed` have an open operation.
template <class T>
static bool all_present(Store& store, const std::vector<std::string>& names, bool open_operation_needed, BulkResult<T>& out) {
    for (std::size_t i = 0; i < names.size(); ++i) {
        auto dev = store.find_device(names[i]);
        if (dev && !dev->has_value()) dev = fail(ErrorKind::Input, "no such device: " + names[i]);
        if (dev && open_operation_needed) {
            auto op = store.open_operation((*dev)->id);
            if (!op) dev = op.error();
            else if (!op->has_value()) dev = fail(ErrorKind::Input, "device " + names[i] + " has no pending operation");
        }
        if (!dev) {
            out.error = dev.error();
            out.failed_at = i;
            return false;
        }
    }
    return true;
}

BulkResult<std::string> Store::remove_devices(const std::vector<std::string>& names, const std::string& actor,
                                              std::size_t chunk) {
    BulkResult<std::string> out;
    if (!all_present(*this, names, false, out)) return out;
    out.error = in_chunks(
        *this, names.size(), chunk, [&](std::size_t i) { return remove_device(names[i], actor); },
        [&](std::size_t i) { out.done.push_back(names[i]); }, out.failed_at);
    return out;
}

BulkResult<std::string> Store::cancel_operations(const std::vector<std::string>& devices, const std::string& actor,
                                                 std::size_t chunk) {
    BulkResult<std::string> out;
    if (!all_present(*this, devices, true, out)) return out;
    out.error = in_chunks(
        *this, devices.size(), chunk, [&](std::size_t i) { return cancel_operation(devices[i], actor); },
        [&](std::size_t i) { out.done.push_back(devices[i]); }, out.failed_at);
    return out;
}

}  // namespace lscgate
