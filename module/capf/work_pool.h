#pragma once

// The worker threads of `lscgate serve`'s event loop: the blocking steps of a
// session (the TLS handshake's signature, proof checks, LSC signing, every
// registry access) run here, never on the loop thread, which only moves bytes
// and waits. A coroutine on the loop hands a step over with
// `co_await run_blocking(pool, job)` and is resumed on the loop when it is done.

#include <asio/awaitable.hpp>
#include <asio/thread_pool.hpp>

#include <cstddef>
#include <functional>

namespace lscgate::capf {

class WorkPool {
public:
    /// Starts `threads` worker threads (at least 1); the destructor waits for the
    /// jobs already handed over and joins them.
    explicit WorkPool(std::size_t threads);
    ~WorkPool();
    WorkPool(const WorkPool&) = delete;
    WorkPool& operator=(const WorkPool&) = delete;

    std::size_t threads() const { return threads_; }

    /// Runs `job` on a worker thread and resumes the awaiting coroutine on its own
    /// executor (the event loop), never on the worker. An exception thrown by `job`
    /// is rethrown in the coroutine. The loop is kept from running out of work
    /// while the job runs.
    asio::awaitable<void> run(const std::function<void()>& job);

private:
    std::size_t threads_;
    asio::thread_pool pool_;
};

/// `co_await run_blocking(pool, job)`: `job` through `pool`, or at once on the
/// calling thread when `pool` is null (the sequential session of the unit tests
/// and fuzz targets, where nothing else waits).
asio::awaitable<void> run_blocking(WorkPool* pool, const std::function<void()>& job);

/// The number of worker threads `lscgate serve` starts: one per core, at least 2
/// (a registry write waiting for SQLite's lock must not stop every handshake),
/// at most 16 (the registry connections kept idle, capf/store_pool.h).
std::size_t default_worker_threads();

}  // namespace lscgate::capf
