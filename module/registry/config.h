#pragma once

// lscgate.toml: everything the CAPF server and the tools read from DIR.
// Relative paths are resolved against DIR.

#include "pki/result.h"

#include <filesystem>
#include <string>

namespace lscgate {

enum class SudiPolicy { Ignore, VerifyIfPresent, Require };

struct Config {
    std::filesystem::path dir;

    // [capf]
    std::filesystem::path capf_cert = "capf.crt";
    std::filesystem::path capf_key = "capf.key";
    std::filesystem::path capf_chain = "capf-chain.pem";  // optional, used when the file exists
    int lsc_days = 365;
    int backdate_seconds = 300;  // notBefore margin of issued certificates (kDefaultBackdateSeconds, issuer.h)
    // Seconds between re-reads of the trusted CAPF certificates by `serve` (so
    // `lscgate capf retire` takes effect without a restart); 0: start and SIGHUP only.
    int trust_refresh_s = 10;

    // [store]
    std::filesystem::path database = "lscgate.db";

    // [server]
    std::string listen = "0.0.0.0:3804";
    std::string tls_min = "1.2";  // "1.0" only for legacy 79xx firmware
    int max_sessions = 64;
    int handshake_timeout_s = 15;
    int reply_timeout_s = 30;
    int keygen_timeout_s = 300;  // REQUEST_IN_PROGRESS restarts it

    // [auth]
    std::filesystem::path mic_roots;  // file or directory; empty: MIC authentication impossible
    int lockout_failures = 5;
    int lockout_seconds = 900;
    bool allow_sha1_only_proof = false;
    bool accept_expired_mic = false;
    SudiPolicy sudi = SudiPolicy::VerifyIfPresent;

    std::filesystem::path resolve(const std::filesystem::path& p) const {
        return p.empty() || p.is_absolute() ? p : dir / p;
    }
    Status validate() const;
};

Result<Config> load_config(const std::filesystem::path& dir);
std::string default_config_text();

}  // namespace lscgate
