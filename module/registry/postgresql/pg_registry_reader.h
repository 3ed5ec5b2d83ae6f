#pragma once

// The registry reader over a PostgreSQL registry shared by several RADIUS nodes
// (see registry_reader.h for the interface). Connects as the RADIUS role
// (lscgate_radius, policy/postgresql/setup.sql: SELECT on the registry only).
//
// Connections: a bounded pool of `connections` read connections per reader,
// opened at open(), each with its lookups prepared, statement_timeout set and
// transactions read-only. A request takes an idle connection (or waits for a
// busy one); it never opens one unless its own connection broke. The pool
// never grows: nodes × connections must fit the server's max_connections
// (PostgreSQL's default is 100, minus superuser_reserved_connections 3; four
// nodes at 25 already exhaust it).
//
// Remembered rows (pg_remembered_rows.h): each answer is kept by lookup key
// with the value of lscgate.change_counter read in the same statement and the
// identity of the database it came from (pg_server_identity.h). Every write to
// certificates, capf_certificates or a device's existence bumps that counter
// and notifies lscgate_registry at commit (pg_schema.h). With
// options.change_watch (the RADIUS decision engine's default), a change watch
// (pg_change_watch.h: one more connection, LISTENing, reading the counter after
// each notification and every heartbeat) vouches for the newest counter, so a
// repeat lookup whose row was read under it from the same database is answered
// from memory - no round trip. When the watch cannot vouch (or is off), the
// lookup reads the counter itself (a one-row primary-key read) and uses the row
// when it is unchanged: exact at the next request. With the watch, a change
// counts once its notification reached this node (see pg_change_watch.h).
// A counter lower than one read before on the same connection (or by the
// watch) is a registry replaced in place: every remembered row is forgotten.
//
// A dead server: libpq's connect_timeout, tcp_user_timeout and keepalives (see
// pg_reader_conninfo.h) and the session's statement_timeout bound how long one
// request can wait. A broken connection is replaced at its next use, but while
// the server stays unreachable only one attempt per back-off interval is made
// for the whole pool (pg_reconnect_gate.h); other requests fail at once.
//
// Outage policy (RegistryReaderOptions::outage_grace): while the server is
// unreachable, grace 0 fails every lookup closed (ErrorKind::Unavailable); grace
// N answers a key from its remembered row while the monotonic clock
// (RegistryReaderOptions::clock) is at most N seconds past the last time the
// registry answered, then fails closed; a key never read before the outage
// always fails closed, and so does a key whose row was read under an older
// change counter than the highest any lookup on this node has seen (a revoke
// learned through another device's lookup counts). A change committed
// elsewhere that no lookup here saw before the outage cannot be known: N is the
// window of staleness the administrator accepts.
//
// Another database behind the same conninfo (a restored backup, a registry
// copy) may reuse counter values: every successful (re)connection starts a new
// generation and rows remembered in an older one are never used again. The outage's start and end are logged
// once each. Errors that are not an outage (a privilege missing, a schema
// mismatch) fail closed at once, grace or not.

#include "registry/postgresql/pg_change_watch.h"
#include "registry/postgresql/pg_reconnect_gate.h"
#include "registry/postgresql/pg_remembered_rows.h"
#include "registry/postgresql/pq_handles.h"
#include "registry/registry_reader.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace lscgate {

class PgRegistryReader final : public RegistryReader {
public:
    /// Connects `options.connections` (at least 1) read connections to the
    /// registry `conninfo` names (a libpq URI or keyword/value string) and checks
    /// the schema version. Errors: Config (malformed conninfo, authentication or
    /// privileges refused, schema not at this lscgate's version), Unavailable
    /// (the server cannot be reached). Messages never show the password.
    static Result<std::unique_ptr<RegistryReader>> open(const std::string& conninfo,
                                                        const RegistryReaderOptions& options, LogSink log = {});
    ~PgRegistryReader() override;

    Result<std::optional<RegisteredCertificate>> by_serial(const std::string& serial_hex,
                                                           const std::string& issuer_oneline, UnixTime now) override;
    Result<std::optional<RegisteredCertificate>> current_lsc(const std::string& device, UnixTime now) override;
    Result<std::vector<X509Ptr>> trusted_capf_certificates() override;
    Result<std::string> capf_signature() override;

    /// Connection attempts made since open() (including open's own): what the
    /// back-off bounds while the server is down.
    std::uint64_t connection_attempts() const { return attempts_.load(); }
    /// Lookups answered from a remembered row the change watch vouched for,
    /// without any round trip to the server.
    std::uint64_t lookups_from_memory() const { return from_memory_.load(); }
    /// Successful connections of the change watch (0 until its thread connected;
    /// starts the watch like a lookup does).
    std::uint64_t watch_connections() {
        PgChangeWatch* w = change_watch();
        return w != nullptr ? w->connections() : 0;
    }
    /// The change counter the watch vouches for now (PgChangeWatch::latest), or
    /// nullopt (no watch, or it cannot vouch).
    std::optional<std::int64_t> watched_counter() {
        PgChangeWatch* w = change_watch();
        auto known = w != nullptr ? w->latest() : std::nullopt;
        return known ? std::optional<std::int64_t>(known->counter) : std::nullopt;
    }

    struct Connection;

private:
    PgRegistryReader(std::string conninfo, std::string shown, const RegistryReaderOptions& options, LogSink log);
    std::chrono::steady_clock::time_point clock_now() const;
    Status connect(Connection& c);
    template <class T, class F>
    Result<T> with_connection(F&& fn);
    Result<std::optional<RegisteredCertificate>> lookup(std::string key, const char* statement, const PgParams& params,
                                                        UnixTime now);
    Result<std::optional<RegisteredCertificate>> outage_answer(const std::string& key, const Error& error);
    PgChangeWatch* change_watch();
    void note_reachable();
    void touch_reachable();
    bool note_connection_counter(Connection& pc, std::uint64_t generation, std::int64_t counter);
    std::uint64_t current_generation();
    void new_generation();
    void note_counter(std::uint64_t generation, std::int64_t counter);
    bool current_as_far_as_known(std::uint64_t generation, std::int64_t counter);
    void note_unreachable(const std::string& cause);
    void log(const std::string& message) const;

    const std::string conninfo_;  // the effective conninfo (with the reader's bounds)
    const std::string shown_;     // the administrator's conninfo, password redacted: for messages
    const RegistryReaderOptions options_;
    const LogSink log_;
    std::unique_ptr<Connection[]> connections_;
    std::size_t size_ = 1;
    std::atomic<std::size_t> next_{0};
    PgReconnectGate gate_;
    std::atomic<std::uint64_t> attempts_{0};
    std::unique_ptr<PgRememberedRows> remembered_;
    std::once_flag watch_once_;
    std::unique_ptr<PgChangeWatch> watch_;  // set once by change_watch(); null until then or if it could not start
    std::atomic<std::uint64_t> from_memory_{0};

    std::atomic<bool> unreachable_{false};
    // clock_now() ticks since its epoch: the latest time the registry answered.
    // Monotonic, so a wall-clock step can neither stretch nor cut the grace.
    std::atomic<std::chrono::steady_clock::rep> last_reachable_{0};
    std::mutex counter_mutex_;         // guards generation_ and latest_counter_
    std::uint64_t generation_ = 0;     // bumped by every successful (re)connection
    std::int64_t latest_counter_ = -1; // highest change counter read in this generation
    std::mutex outage_mutex_;                  // orders the outage's start/end log lines
    std::string last_cause_;                   // why the last attempt failed (under outage_mutex_)
};

}  // namespace lscgate
