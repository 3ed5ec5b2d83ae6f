#include "capf/work_pool.h"

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <exception>
#include <thread>

namespace lscgate::capf {

WorkPool::WorkPool(std::size_t threads) : threads_(std::max<std::size_t>(threads, 1)), pool_(threads_) {}

WorkPool::~WorkPool() { pool_.join(); }

asio::awaitable<void> WorkPool::run(const std::function<void()>& job) {
    std::exception_ptr error;
    // `job` and `error` live in this coroutine's frame, which stays suspended
    // until the handler below resumes it: the worker may use both by reference.
    auto initiate = [this, &job, &error](auto handler) {
        auto home = asio::make_work_guard(asio::get_associated_executor(handler));
        asio::post(pool_, [&job, &error, home = std::move(home), handler = std::move(handler)]() mutable {
            try {
                job();
            } catch (...) {
                error = std::current_exception();
            }
            auto loop = home.get_executor();
            asio::post(loop, std::move(handler));  // resumes the coroutine on its loop
            home.reset();
        });
    };
    co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(std::move(initiate), asio::use_awaitable);
    if (error) std::rethrow_exception(error);
}

asio::awaitable<void> run_blocking(WorkPool* pool, const std::function<void()>& job) {
    if (pool == nullptr) {
        job();
        co_return;
    }
    co_await pool->run(job);
}

std::size_t default_worker_threads() {
    const std::size_t cores = std::thread::hardware_concurrency();
    return std::clamp<std::size_t>(cores, 2, 16);
}

}  // namespace lscgate::capf
