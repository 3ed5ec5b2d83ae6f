#pragma once

// The client side of CAPF: a simulated phone for tests, the demo and the
// benchmark. It behaves like a phone that holds an optional LSC and MIC:
// follows the server's key request, proves possession, stores what it is given.

#include "core/openssl_handles.h"
#include "core/result.h"

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
};

Result<PhoneResult> run_phone(const PhoneOptions& options);

// Files the simulator keeps per phone in out_dir.
std::filesystem::path phone_lsc_cert_path(const std::filesystem::path& dir, const std::string& name);
std::filesystem::path phone_lsc_key_path(const std::filesystem::path& dir, const std::string& name);

}  // namespace lscgate::capf
