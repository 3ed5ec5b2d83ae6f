#pragma once

// A LoopGate per source address: one address holds at most a share of the TLS
// handshakes in progress. Without it, 256 connections from one host that each
// send a byte of a ClientHello and then nothing would hold every handshake place
// of `lscgate serve` for handshake_timeout, and every real phone would wait them
// out (a phone has an address of its own; a simulator on one host waits its turn).

#include "capf/loop_gate.h"

#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_map>

namespace lscgate::capf {

class HostGates {
    struct Entry;

public:
    /// `per_host` places per address at most (at least 1). Loop thread only.
    explicit HostGates(std::size_t per_host) : per_host_(per_host < 1 ? 1 : per_host) {}
    HostGates(const HostGates&) = delete;
    HostGates& operator=(const HostGates&) = delete;

    /// One connection's use of its address's gate: leaves its place (if it got
    /// one) and forgets the address once nobody from it waits or holds a place.
    class Place {
    public:
        Place(HostGates& gates, const std::string& host);
        ~Place();
        Place(const Place&) = delete;
        Place& operator=(const Place&) = delete;
        /// Waits for a place of this address; false when `deadline` came first
        /// or the gates were closed.
        asio::awaitable<bool> enter(std::chrono::steady_clock::time_point deadline);

    private:
        HostGates& gates_;
        std::string host_;
        Entry* entry_;
        bool inside_ = false;
    };

    /// Every waiter is turned away at once, as is every later enter().
    void close();
    /// Addresses with a connection waiting or inside (tests).
    std::size_t hosts() const { return entries_.size(); }

private:
    struct Entry {
        explicit Entry(std::size_t limit) : gate(limit) {}
        LoopGate gate;
        std::size_t users = 0;
    };
    std::size_t per_host_;
    bool closed_ = false;
    std::unordered_map<std::string, Entry> entries_;
};

/// The address part of a peer name "HOST:PORT" (IPv6 hosts hold colons: the
/// port is after the last one).
std::string peer_host(const std::string& peer);

}  // namespace lscgate::capf
