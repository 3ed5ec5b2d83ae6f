#include "capf/loop_gate.h"

#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace lscgate::capf {

asio::awaitable<bool> LoopGate::enter(std::chrono::steady_clock::time_point deadline) {
    if (closed_) co_return false;
    if (inside_ < limit_ && queue_.empty()) {
        ++inside_;
        co_return true;
    }
    const auto executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor, deadline);
    Waiter waiter{&timer};
    const auto place = queue_.insert(queue_.end(), &waiter);
    asio::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    // Admitted: leave() took us off the queue and cancelled the timer (or found it
    // just expired: the place is ours all the same). Otherwise the deadline came,
    // or close() emptied the queue.
    if (waiter.admitted) co_return true;
    if (!closed_) queue_.erase(place);
    co_return false;
}

void LoopGate::close() {
    closed_ = true;
    for (Waiter* waiter : queue_) waiter->timer->cancel();  // each wakes, not admitted
    queue_.clear();
}

void LoopGate::leave() {
    if (!closed_ && !queue_.empty()) {
        Waiter* next = queue_.front();
        queue_.pop_front();
        next->admitted = true;  // the place passes on: inside_ stays
        next->timer->cancel();
        return;
    }
    if (inside_ > 0) --inside_;
}

}  // namespace lscgate::capf
