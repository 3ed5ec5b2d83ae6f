#pragma once

// A bound on how many coroutines of one event loop are inside a stretch of work
// at once, the others waiting their turn in arrival order, each no longer than
// its own deadline. `lscgate serve` bounds its TLS handshakes in progress with
// one: a handshake holds OpenSSL's 16 KB handshake buffer and its state from its
// first step to its end, so a fleet arriving faster than the workers sign would
// otherwise leave thousands of half-done handshakes, and their freed buffers
// scattered through the heap, behind it.

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <list>

namespace lscgate::capf {

class LoopGate {
public:
    /// `limit` holders at most (at least 1). Loop thread only, as every member.
    explicit LoopGate(std::size_t limit) : limit_(limit < 1 ? 1 : limit) {}
    LoopGate(const LoopGate&) = delete;
    LoopGate& operator=(const LoopGate&) = delete;

    /// Waits (suspended) for a place; true once inside (leave() when done), false
    /// when `deadline` came first (not inside).
    asio::awaitable<bool> enter(std::chrono::steady_clock::time_point deadline);
    /// Gives the place to the longest waiter, or frees it.
    void leave();
    /// From now on nobody enters: every waiter is turned away at once (false), as
    /// is every later enter() (stopping the server after its grace).
    void close();

    std::size_t inside() const { return inside_; }
    std::size_t waiting() const { return queue_.size(); }

private:
    struct Waiter {
        asio::steady_timer* timer;
        bool admitted = false;  // set by leave() when it hands its place over
    };
    std::size_t limit_;
    std::size_t inside_ = 0;
    bool closed_ = false;
    std::list<Waiter*> queue_;  // in arrival order
};

/// A place in a LoopGate, left when it goes out of scope.
class GatePass {
public:
    explicit GatePass(LoopGate& gate) : gate_(gate) {}
    ~GatePass() { gate_.leave(); }
    GatePass(const GatePass&) = delete;
    GatePass& operator=(const GatePass&) = delete;

private:
    LoopGate& gate_;
};

}  // namespace lscgate::capf
