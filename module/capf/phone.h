#pragma once

// The client side of CAPF: a simulated phone for tests, the demo and the
// benchmark. It behaves like a phone that holds an optional LSC and MIC:
// follows the server's key request, proves possession, stores what it is given.

#include "pki/openssl_handles.h"
#include "pki/result.h"

#include <asio/awaitable.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lscgate::capf {

// Deliberate misbehaviour, for end-to-end tests of the server's failure paths.
enum class PhoneFault {
    None,
    DropAfterKeygen,   // close the connection after generating the key, before answering
    RefuseStore,       // answer STORE_CERTIFICATE with REASON 7
    WrongKey,          // return an RSA-1024 key whatever was asked
};

/// Keep-alive period of a slow simulated phone, in seconds (see PhoneOptions).
inline constexpr double kDefaultKeepaliveIntervalSeconds = 10.0;

struct PhoneIdentity {
    X509Ptr cert;
    EvpPkeyPtr key;
};

struct PhoneOptions {
    std::string server;  // host:port
    std::vector<X509Ptr> trusted_capf;
    std::string name;
    std::string auth_string;  // empty: send PASSWORD as the empty string
    std::optional<PhoneIdentity> lsc;
    std::optional<PhoneIdentity> mic;
    bool prefer_mic = false;  // CUCM's "precedence": which certificate to present when the phone has both
    std::filesystem::path out_dir;  // where <NAME>.lsc.pem / <NAME>.lsc.key are written
    int version = 3;
    std::string tls_version;  // "" = TLS 1.2+
    PhoneFault fault = PhoneFault::None;
    int timeout_seconds = 60;
    // Key generation as a phone paces it (module/capf/PROTOCOL.md §6.2, §6.6, §10). The
    // reference server tolerates one REQUEST_IN_PROGRESS before
    // KEY_GENERATE_RESPONSE and ends the session on a second, so the default is what
    // a phone whose key is ready within seconds does: none at all.
    int keepalives = 0;                 // REQUEST_IN_PROGRESS sent as soon as the request arrives
    double keygen_delay_seconds = 0;    // a slow phone: answer no sooner than this after the request
    double keygen_jitter_seconds = 0;   // the delay is drawn from [delay - jitter, delay + jitter], >= 0
    // While delaying, one REQUEST_IN_PROGRESS every this many seconds. The default
    // stays well below lscgate's [capf] reply_timeout (30 s) so a slow phone is never
    // mistaken for a dead one.
    double keepalive_interval_seconds = kDefaultKeepaliveIntervalSeconds;
    // SUDI (§7.4): when set, AUTH_RESPONSE carries SUDI_DATA signed over the
    // little-endian session id || DER(certificate), SHA-1 and SHA-512 blocks.
    std::optional<PhoneIdentity> sudi;
    // Load mode shares one TLS client context and skips fsync: thousands of
    // simulated phones on one host are a benchmark, not a fleet.
    std::shared_ptr<SSL_CTX> tls_context;
    bool sync_files = true;
};

// A client context trusting options.trusted_capf, for sharing across phones.
Result<std::shared_ptr<SSL_CTX>> make_phone_tls_context(const PhoneOptions& options);

struct PhoneResult {
    int end_reason = -1;       // the server's END_SESSION reason
    std::string action;        // "installed", "fetched", "deleted", "none"
    std::string detail;        // e.g. the new LSC's subject and serial
    int keepalives_sent = 0;   // REQUEST_IN_PROGRESS messages this session sent
};

class WorkPool;

/// One phone's session as a coroutine on the caller's event loop (one thread):
/// connect, TLS, the CAPF conversation, then the server's close (bounded). Every
/// wait suspends it, so one loop holds thousands of phones; key generation, proof
/// signatures and the LSC files run through `pool` (capf/work_pool.h), or on the
/// loop when it is null. Errors: the connection, TLS, or the server misbehaving
/// (no END_SESSION); a refusal by the server is a result (end_reason).
asio::awaitable<Result<PhoneResult>> run_phone_async(const PhoneOptions& options, WorkPool* pool);

/// run_phone_async on an event loop of its own, on this thread.
Result<PhoneResult> run_phone(const PhoneOptions& options);

// Files the simulator keeps per phone in out_dir.
std::filesystem::path phone_lsc_cert_path(const std::filesystem::path& dir, const std::string& name);
std::filesystem::path phone_lsc_key_path(const std::filesystem::path& dir, const std::string& name);

}  // namespace lscgate::capf
