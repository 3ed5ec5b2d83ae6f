#pragma once

// `lscgate serve`: the TLS listener on TCP 3804. Every phone session is a
// coroutine on one event loop (the calling thread), so a session waiting on its
// phone holds no thread; the blocking steps (TLS handshake steps, proof checks,
// signing, the registry) run on a fixed pool of worker threads (capf/work_pool.h).
// At most max_sessions at once, bounded by the open-file limit (raised to its hard
// limit at start); SIGTERM/SIGINT stop accepting and let running sessions finish
// (aborting them after a grace period). The trusted CAPF
// certificates (re-key proofs) are re-read from the registry every [capf]
// trust_refresh seconds and on SIGHUP, through the same TrustLoader as RADIUS.
// A SIGHUP also re-reads lscgate.toml, the CAPF certificate, key and chain and
// [auth] mic_roots: new sessions use them, running ones finish with what they
// started with; a configuration that does not load is logged and the running
// one kept. [server] listen and the database take effect at the next start.

#include "capf/session.h"
#include "registry/config.h"
#include "pki/result.h"

#include <atomic>
#include <functional>
#include <iosfwd>
#include <string>

namespace lscgate::capf {

/// What a service manager is told (systemd's sd_notify(3) in `lscgate serve`):
/// one call at a time, from the event loop's thread (ready, alive, stopping) or
/// from a worker thread while the loop waits for the reload (reloading, reloaded).
class ServiceEvents {
public:
    virtual ~ServiceEvents() = default;
    virtual void ready(const std::string& status) = 0;  // listening, trust set loaded (READY=1)
    virtual void reloading() = 0;                       // a SIGHUP is being handled (RELOADING=1)
    virtual void reloaded(const std::string& status) = 0;  // done, applied or kept (READY=1)
    virtual void alive() = 0;     // the event loop turned (at least every 200 ms): WATCHDOG=1 when due
    virtual void stopping() = 0;  // SIGTERM/SIGINT seen (STOPPING=1)
};

/// Told of every phone connection `serve` handles, for metrics. Called from the
/// event loop's thread (session_started, connection_refused) and from the worker
/// threads (session_ended, possibly several at once): implementations lock for
/// themselves and must not throw or block.
class SessionObserver {
public:
    virtual ~SessionObserver() = default;
    virtual void session_started() = 0;
    /// `outcome.result` is one of run_session's results or "closed" (TLS
    /// handshake failed, class Connection); `seconds` from accept to the session's end.
    virtual void session_ended(const SessionOutcome& outcome, double seconds) = 0;
    /// A connection closed without a session: over max_sessions (or the open-file
    /// limit), or no memory for the session.
    virtual void connection_refused() = 0;
};

struct ServeOptions {
    std::string listen;   // overrides [server] listen when non-empty (also after a reload)
    std::string tls_min;  // overrides [server] tls_min when non-empty (also after a reload)
    int grace_seconds = 30;
    // Set (by the SIGHUP handler) to reload now (configuration and trust set);
    // cleared by the server.
    std::atomic<bool>* refresh_trust = nullptr;
    // ADDR:PORT to serve the CRL on over HTTP (/capf.crl); empty: no HTTP. The
    // CRL file is kept current either way (capf/crl_service.h).
    std::string crl_http;
    // Reads the configuration again for a SIGHUP (the command line's database
    // precedence included). Unset: a SIGHUP re-reads only the trust set.
    std::function<Result<Config>()> reload_config;
    ServiceEvents* events = nullptr;  // not owned; may be null
    SessionObserver* observer = nullptr;  // not owned; may be null (no metrics)
};

// Blocks until `stop` becomes true. Every session is logged as one line on `log`;
// one that got past the TLS handshake is first recorded in the registry
// (Store::record_capf_session, the newest [capf] session_history rows kept).
Status serve(const Config& config, const ServeOptions& options, const std::atomic<bool>& stop, std::ostream& log);

}  // namespace lscgate::capf
