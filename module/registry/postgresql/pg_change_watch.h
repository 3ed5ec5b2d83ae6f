#pragma once

// What a RADIUS node knows of the shared registry's change counter without a
// round trip per request. Every write that can change a decision bumps
// lscgate.change_counter and sends NOTIFY lscgate_registry at commit
// (pg_schema.h). One extra connection per reader LISTENs on that channel; its
// thread reads the counter (SELECT, asynchronously: the connection's lock is
// never held across a round trip) after every notification and every
// `heartbeat` otherwise.
//
// latest() is what a request asks: the counter and the identity of the
// database it was read from (pg_server_identity.h), or "not known" - then the
// caller reads the counter itself, as it does without the watch. A
// notification is only a wake-up: its payload is never trusted (any role in
// the database may NOTIFY); from the moment one is seen until the thread has
// read the counter again the watch vouches for nothing. Not known either while
// the watch is (re)connecting or broken, or when no counter read has succeeded
// for `freshness` (a server gone silently, or a starved thread: at most that
// long does a node answer from memory unaware of it).
//
// A counter lower than the last one read means the registry was replaced in
// place (a restore): `reconnected` is called, as after a reconnection, so the
// reader forgets what it remembered.
//
// Lag: a commit notifies the listener when it commits; the notification then
// travels to this socket (normally well under a millisecond on a LAN), and
// latest() reads the socket before answering. A request sent in that window
// still gets the previous answer. Where notifications are lost (a connection
// pooler in transaction mode; a hot standby refuses LISTEN and the watch never
// connects), a change counts at the next heartbeat at the latest.
//
// Thread-safe. The thread never throws. A connection attempt blocks the thread
// (libpq's connect_timeout per address): the destructor waits for it.
// Time here is the steady clock (heartbeats are real network events).

#include "pki/result.h"
#include "registry/postgresql/pg_reconnect_gate.h"
#include "registry/postgresql/pq_handles.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace lscgate {

class PgChangeWatch {
public:
    struct Options {
        std::chrono::milliseconds heartbeat{500};   ///< a counter read at least this often
        std::chrono::milliseconds freshness{2000};  ///< latest() says "not known" when no read succeeded for this long
        std::chrono::seconds connect_timeout{3};
        std::chrono::milliseconds statement_timeout{2000};
        std::chrono::milliseconds reconnect_backoff_min{500};
        std::chrono::milliseconds reconnect_backoff_max{10000};
    };
    /// The counter the watch vouches for, and the database it was read from.
    struct Known {
        std::int64_t counter = -1;
        std::uint64_t server = 0;  ///< pg_server_identity
    };
    /// Called from the watch thread after each successful (re)connection, before
    /// it vouches for anything, and when the counter went backwards: the rows a
    /// reader remembered may belong to another database now. Must not throw.
    using Reconnected = std::function<void()>;
    /// Where the watch reports losing and regaining its connection (once per
    /// change). Called from the watch thread; must not throw.
    using LogSink = std::function<void(const std::string& message)>;

    /// Starts the watch over `conninfo` (the reader's effective conninfo, with
    /// its timeouts); returns at once, the thread connects. Errors (Internal):
    /// no thread or eventfd could be created.
    static Result<std::unique_ptr<PgChangeWatch>> start(std::string conninfo, Options options,
                                                        Reconnected reconnected, LogSink log = {});
    /// Stops and joins the thread.
    ~PgChangeWatch();
    PgChangeWatch(const PgChangeWatch&) = delete;
    PgChangeWatch& operator=(const PgChangeWatch&) = delete;

    /// The newest change counter as far as the watch can vouch, or nullopt.
    /// Never waits on the network: a short lock and a non-blocking socket read.
    std::optional<Known> latest();

    /// Successful connections made so far (tests wait on it).
    std::uint64_t connections() const { return connections_.load(); }

private:
    PgChangeWatch(std::string conninfo, Options options, Reconnected reconnected, LogSink log, int wake_fd);
    void run() noexcept;
    void loop();
    bool connect();
    void step();
    std::chrono::milliseconds wait_time() const;
    void wait_for(int socket, std::chrono::milliseconds timeout);
    bool consume_locked();
    void collect_locked(bool& reset);
    void mark_broken_locked(const std::string& cause);
    void wake();
    void log(const std::string& message) const;

    const std::string conninfo_;
    const Options options_;
    const Reconnected reconnected_;
    const LogSink log_;
    const int wake_fd_;  // eventfd: stop, a notification seen by a request, a broken connection
    PgReconnectGate gate_;
    std::atomic<bool> stopping_{false};
    std::atomic<std::uint64_t> connections_{0};
    bool lost_logged_ = false;  // the thread's own: a loss was logged, log the recovery

    mutable std::mutex mutex_;  // guards conn_ (libpq: one thread at a time) and the state below
    std::optional<PgConnection> conn_;
    bool healthy_ = false;
    bool vouching_ = false;            // no notification since the last counter read was sent
    bool in_flight_ = false;           // a counter read sent, its result not yet collected
    bool notified_in_flight_ = false;  // a notification arrived while it was in flight
    std::int64_t counter_ = -1;
    std::uint64_t server_ = 0;
    std::chrono::steady_clock::time_point sent_at_{};  // when the last counter read was sent
    std::chrono::steady_clock::time_point proven_{};   // when the last successful one was sent
    std::string broken_cause_;

    std::thread thread_;
};

}  // namespace lscgate
