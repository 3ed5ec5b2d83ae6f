#pragma once

// The sequential face of the coroutine code: runs one awaitable to its end on a
// private io_context on the calling thread. Used where nothing else shares the
// thread (the unit tests and fuzz targets over a MemoryStream, the blocking
// TlsStream of `lscgate doctor`); `lscgate serve` and the phone simulator run
// their coroutines on their own event loops instead.

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <exception>
#include <optional>
#include <utility>

namespace lscgate::capf {

/// Runs `task` to completion and returns its value; an exception escaping it is
/// rethrown here. T must be default-constructible (asio's co_spawn completion).
template <typename T>
T run_sync(asio::awaitable<T> task) {
    asio::io_context io(1);
    std::optional<T> result;
    std::exception_ptr error;
    asio::co_spawn(io, std::move(task), [&result, &error](std::exception_ptr e, T value) {
        error = e;
        if (!e) result.emplace(std::move(value));
    });
    io.run();
    if (error) std::rethrow_exception(error);
    return std::move(*result);
}

}  // namespace lscgate::capf
