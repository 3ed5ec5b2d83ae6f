#pragma once

// Server side of one CAPF session (module/capf/PROTOCOL.md §6, §7, §6.8, §10): exactly
// one END_SESSION ends every path that still has a peer, nothing is committed
// before the phone confirms it, and every failure has a cause for the log.
//
// The session is a coroutine: it suspends on every wait for the phone (above all
// the key generation, up to minutes), so `lscgate serve` holds thousands of them
// on one event-loop thread. Its blocking steps (registry, proof checks, signing)
// run through a SessionWork, on the server's worker pool; the unit tests and fuzz
// targets run the same coroutine to its end with the steps inline (run_session).

#include "capf/frame_channel.h"
#include "capf/session_cause.h"
#include "registry/config.h"
#include "pki/issuer.h"
#include "registry/store.h"
#include "pki/trust_set.h"

#include <asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace lscgate::capf {

struct SessionSettings {
    std::chrono::milliseconds reply_timeout{std::chrono::seconds(30)};
    std::chrono::milliseconds keygen_timeout{std::chrono::seconds(300)};
    int lsc_days = 365;
    int lockout_failures = 5;
    int lockout_seconds = 900;
    bool allow_sha1_only_proof = false;
    bool accept_expired_mic = false;
    SudiPolicy sudi = SudiPolicy::VerifyIfPresent;

    static SessionSettings from(const Config& config);
};

/// How long (seconds) an operation stays claimed by a session that stopped
/// writing: the longest a live session can run without a registry write (the key
/// generation wait, stretched by REQUEST_IN_PROGRESS up to 4 keygen timeouts, plus
/// the reply waits around it) and a minute to spare. Only a session that died
/// with its server (SIGKILL, power loss) leaves a claim that old; after it the
/// phone's next session takes the operation over (Store::claim_operation).
inline int operation_claim_stale_seconds(const SessionSettings& s) {
    const auto reply = std::chrono::duration_cast<std::chrono::seconds>(s.reply_timeout).count();
    const auto keygen = std::chrono::duration_cast<std::chrono::seconds>(s.keygen_timeout).count();
    return static_cast<int>(4 * keygen + 4 * reply + 60);
}

struct SessionContext {
    Store& store;
    const CapfAuthority& authority;
    const TrustSet& trust;
    SessionSettings settings;
};

/// How one CAPF session ended: its log line, its metrics and its registry row
/// (registry/fleet_records.h CapfSessionRecord) are written from this.
struct SessionOutcome {
    std::string device;     // as the phone named itself ("" if it never did)
    std::string auth_mode;  // configured mode, "" before lookup
    std::string operation;  // install / fetch / delete / none
    std::optional<std::int64_t> operation_id;  // the operation the session worked on, once looked up
    // rejected: the phone failed to authenticate (counted toward the lockout);
    // failed: anything else, including server faults (cause "server error (KIND): ...")
    std::string result;     // succeeded / failed / rejected / unknown-device / no-operation / timed-out / closed
    // Why it did not succeed, as a stable class for grouping (None when it did);
    // set explicitly on every way a session ends.
    SessionCause cause_class = SessionCause::None;
    std::string cause;      // why, for the log line; never a secret
    int end_reason = -1;    // END_SESSION reason sent, -1 if none was sent
    std::string serial;     // LSC issued, for the log
    std::string authenticated_by;  // "LSC" / "MIC" for certificate modes
    std::string note;       // what was deliberately not checked, e.g. "SUDI_DATA ignored: no MIC roots ..."
};

/// Where a session's blocking steps run, each with a registry connection.
class SessionWork {
public:
    virtual ~SessionWork() = default;
    /// Runs `step` with a registry connection (off the event loop in `lscgate
    /// serve`) and resumes the caller when it is done. An error (the registry's
    /// kind, e.g. Unavailable) when no connection could be had: `step` did not run.
    virtual asio::awaitable<Status> run(const std::function<void(Store&)>& step) = 0;
};

/// What a session works with besides its channel: the CAPF, trust set and
/// settings it started with (a reload does not change them under it), and where
/// its blocking steps run. Every member must outlive the session.
struct SessionEnvironment {
    const CapfAuthority& authority;
    const TrustSet& trust;
    SessionSettings settings;
    SessionWork& work;
};

/// Runs one session on an established channel (the TLS handshake done) to its
/// end, suspending on the channel and on `environment.work`; every failure is in
/// the outcome, nothing throws by design.
asio::awaitable<SessionOutcome> serve_session(FrameChannel& channel, const SessionEnvironment& environment,
                                              std::uint32_t session_id);

/// serve_session run to its end on this thread, every blocking step inline on
/// `context.store` (unit tests, fuzz targets: a channel that never waits).
SessionOutcome run_session(FrameChannel& channel, SessionContext& context, std::uint32_t session_id);

}  // namespace lscgate::capf
