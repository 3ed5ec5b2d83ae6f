#pragma once

// What a RADIUS node knows of the shared registry's change counter without a
// round trip per request. Every write that can change a decision bumps
// lscgate.change_counter and sends NOTIFY lscgate_registry '<table> <counter>'
// at commit (pg_schema.h). One extra connection per reader LISTENs on that
// channel; a background thread waits on its socket and a heartbeat (SELECT of
// the counter every `heartbeat`) proves the server is still there.
//
// latest() is what a request asks: the newest counter, or "not known" - then
// the caller reads the counter itself, as it would without the watch. Not known
// while the watch is (re)connecting, broken, in the middle of a heartbeat, or
// when neither a heartbeat nor a notification has arrived within `freshness`
// (a server gone silently: at most that long is a node unaware of it).
//
// Lag: PostgreSQL signals the listening server process when the writing
// transaction commits, before the writer is told "COMMIT"; that process then
// sends the notification. latest() also reads whatever has reached the socket
// before answering (non-blocking), so what is left is the time between the
// writer's commit and the listener's server process writing to its socket -
// microseconds, shorter than any client needs to notice its commit and send a
// RADIUS request. This is the (documented) trade against the exact counter
// read per request.
//
// Thread-safe. The thread never throws (an exception ends the watch: every
// later latest() is "not known", so requests read the counter themselves).
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
        std::chrono::milliseconds heartbeat{500};   ///< a counter read this often proves the server is alive
        std::chrono::milliseconds freshness{2000};  ///< latest() says "not known" when unproven for this long
        std::chrono::seconds connect_timeout{3};
        std::chrono::milliseconds statement_timeout{2000};
        std::chrono::milliseconds reconnect_backoff_min{500};
        std::chrono::milliseconds reconnect_backoff_max{10000};
    };
    /// Called from the watch thread after each successful (re)connection,
    /// before its first counter is published: the database behind the conninfo
    /// may be another one now (a restored backup reuses counter values), so the
    /// reader forgets the rows it remembered. Must not throw.
    using Reconnected = std::function<void()>;

    /// Starts the watch over `conninfo` (the reader's effective conninfo, with
    /// its timeouts); returns at once, the thread connects. Errors (Internal):
    /// no thread or eventfd could be created.
    static Result<std::unique_ptr<PgChangeWatch>> start(std::string conninfo, Options options,
                                                        Reconnected reconnected);
    /// Stops and joins the thread (at most one connection attempt or heartbeat
    /// in flight, each bounded by the timeouts above).
    ~PgChangeWatch();
    PgChangeWatch(const PgChangeWatch&) = delete;
    PgChangeWatch& operator=(const PgChangeWatch&) = delete;

    /// The registry's newest change counter as far as notifications and
    /// heartbeats tell, or nullopt when that is not known (see above).
    /// Never blocks on the network; takes a short lock and reads the socket
    /// without waiting.
    std::optional<std::int64_t> latest();

    /// Successful connections made so far (tests wait on it).
    std::uint64_t connections() const { return connections_.load(); }

private:
    PgChangeWatch(std::string conninfo, Options options, Reconnected reconnected, int wake_fd);
    void run() noexcept;
    void loop();
    bool connect();
    void wait_for_socket(int socket, std::chrono::milliseconds timeout);
    bool drain_locked(std::chrono::steady_clock::time_point now);
    bool heartbeat();
    void mark_broken_locked();
    void wake();

    const std::string conninfo_;
    const Options options_;
    const Reconnected reconnected_;
    const int wake_fd_;  // eventfd: stop, or a request found the connection broken
    PgReconnectGate gate_;

    std::mutex mutex_;  // guards conn_ (libpq: one thread at a time) and the state below
    std::optional<PgConnection> conn_;
    bool healthy_ = false;
    std::int64_t counter_ = -1;
    std::chrono::steady_clock::time_point proven_{};  // last heartbeat or notification
    std::atomic<bool> busy_{false};  // the thread holds mutex_ across a round trip: requests do not wait
    std::atomic<bool> stopping_{false};
    std::atomic<std::uint64_t> connections_{0};
    std::thread thread_;
};

}  // namespace lscgate
