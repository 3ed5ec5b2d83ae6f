#pragma once

// How often a RADIUS node's registry reader may try to reach a PostgreSQL server
// that is down: one attempt per back-off interval for the whole pool, the
// interval doubling per failed attempt (from `min` up to `max`), reset by the
// first success. Every other request meanwhile is told "not now" and fails fast
// (or uses the outage grace) instead of waiting connect_timeout on a dead
// server - so a server outage does not turn every RADIUS request into a
// connection attempt (a reconnect storm from every node at once when it returns).
// While the server is healthy nothing is limited: after a restart each pooled
// connection reconnects at its next use.

#include <algorithm>
#include <chrono>
#include <mutex>

namespace lscgate {

class PgReconnectGate {
public:
    using Clock = std::chrono::steady_clock;

    PgReconnectGate(std::chrono::milliseconds min, std::chrono::milliseconds max)
        : min_(std::max(min, std::chrono::milliseconds(1))), max_(std::max(max, min_)) {}

    /// True when the caller may make a connection attempt now; it must then
    /// report the outcome with succeeded() or failed(). While failing, true for
    /// exactly one caller per back-off interval.
    bool try_begin(Clock::time_point now) {
        std::lock_guard lock(mutex_);
        if (!failing_) return true;
        if (attempting_ || now < next_) return false;
        attempting_ = true;
        return true;
    }
    void succeeded() {
        std::lock_guard lock(mutex_);
        failing_ = attempting_ = false;
        backoff_ = std::chrono::milliseconds(0);
    }
    void failed(Clock::time_point now) {
        std::lock_guard lock(mutex_);
        backoff_ = failing_ ? std::min(backoff_ * 2, max_) : min_;
        failing_ = true;
        attempting_ = false;
        next_ = now + backoff_;
    }
    /// How long until the next attempt is allowed (0 when one is allowed now).
    std::chrono::milliseconds wait_left(Clock::time_point now) const {
        std::lock_guard lock(mutex_);
        if (!failing_ || now >= next_) return std::chrono::milliseconds(0);
        return std::chrono::ceil<std::chrono::milliseconds>(next_ - now);
    }

private:
    const std::chrono::milliseconds min_;
    const std::chrono::milliseconds max_;
    mutable std::mutex mutex_;
    bool failing_ = false;     // the last attempt failed
    bool attempting_ = false;  // the one allowed attempt is running
    std::chrono::milliseconds backoff_{0};
    Clock::time_point next_{};
};

}  // namespace lscgate
