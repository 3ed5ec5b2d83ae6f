#pragma once

// lscgate.toml: everything the CAPF server and the tools read from DIR.
// Relative paths are resolved against DIR; the database setting only when it
// is a file path (database_setting.h), never when it is a PostgreSQL conninfo.

#include "pki/result.h"
#include "registry/database_setting.h"
#include "registry/fleet_records.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace lscgate {

enum class SudiPolicy { Ignore, VerifyIfPresent, Require };

/// The largest [capf] session_history accepted (≈ 2 GB of session rows).
inline constexpr std::int64_t kMaxSessionHistory = 10000000;

/// [web]: `lscgate web` (module/web): where it listens, its certificate, its
/// sessions and its sign-in lockout. Times in seconds.
struct WebSettings {
    std::string listen = "127.0.0.1:8443";  ///< HOST:PORT; non-loopback only with allow_remote
    bool allow_remote = false;
    std::filesystem::path certificate;  ///< PEM certificate (+ chain); "" = web.crt in dir, self-signed
    std::filesystem::path key;          ///< its key (0600); "" = web.key in dir
    int session_idle_s = 900;
    int session_absolute_s = 28800;
    int lockout_failures = 5;
    int lockout_seconds = 900;
    /// With a SQLite registry: the RADIUS node's last-seen file (its module's
    /// last_seen_database) the pages read (MIC-seen counts, sightings, reports);
    /// "" = [coa] last_seen. Unused with PostgreSQL (lscgate.last_seen).
    std::filesystem::path last_seen;
    /// Ranges as lscgate.toml documents them; certificate and key both or neither. Errors (Config).
    Status validate() const;
};

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
    // CRL Distribution Point URL put into new LSCs ("" = none; pki/issuer.h set_crl_url).
    std::string crl_url;
    // How many CAPF session rows `serve` keeps in the registry (the newest; older
    // ones are deleted as new ones are written): 1 to kMaxSessionHistory.
    std::int64_t session_history = kDefaultSessionHistory;

    // [crl] The CAPF's CRL (capf/crl_publisher.h).
    std::filesystem::path crl_file = "capf.crl";  // where `lscgate crl`, `revoke` and `serve` keep it (DER)
    int crl_validity_s = 7 * 86400;               // nextUpdate − thisUpdate; renewed after half of it
    bool crl_include_superseded = false;          // list superseded LSCs too (reason superseded)
    int crl_refresh_s = 60;                       // seconds between `serve`'s checks of the registry

    // [store]
    // The registry: a SQLite file path (relative to dir) or a PostgreSQL URI /
    // conninfo, as written; overridden by LSCGATE_DATABASE and --database
    // (apply_database_override). Open database_location(), print database_display().
    std::string database = "lscgate.db";
    std::string database_origin = "[store] database";  // where `database` came from, for messages

    // [server]
    std::string listen = "0.0.0.0:3804";
    std::string tls_min = "1.2";  // "1.0" only for legacy 79xx firmware
    int max_sessions = 10000;
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

    // [coa] Change of Authorization after `lscgate revoke` (module/coa, RFC 5176).
    bool coa_on_revoke = false;         // every revoke sends it (else only with --disconnect)
    int coa_port = 1700;                // the NAS's CoA port: Cisco IOS listens on 1700, RFC 5176 §2.3 says 3799
    std::string coa_mode = "reauthenticate";  // "reauthenticate" (CoA-Request) | "disconnect" (Disconnect-Request)
    int coa_timeout_s = 3;              // seconds to wait for an answer after each send
    int coa_retries = 2;                // retransmissions after the first send
    // The NAS shared secrets: lines "ADDRESS SECRET [PORT]", mode 0600 (coa/nas_secrets.h);
    // never in lscgate.toml, which the package installs world-readable.
    std::filesystem::path coa_secrets_file = "coa-secrets";
    // A SQLite registry holds no last-seen: the RADIUS node's last-seen file (its module's
    // last_seen_database); "" with PostgreSQL, whose lscgate.last_seen holds every node's.
    std::filesystem::path coa_last_seen;
    // [web]
    WebSettings web;

    std::filesystem::path resolve(const std::filesystem::path& p) const {
        return p.empty() || p.is_absolute() ? p : dir / p;
    }
    /// What to open: the file path resolved against dir, or the conninfo as written.
    std::string database_location() const { return resolve_database(dir, database); }
    /// The setting with any PostgreSQL password replaced by "***", for output and logs.
    std::string database_display() const { return database_for_display(database); }
    Status validate() const;
};

/// Reads DIR/lscgate.toml (only; no environment). Errors (Config): missing
/// file, TOML syntax, unknown keys, values out of range (FILE:LINE).
Result<Config> load_config(const std::filesystem::path& dir);

/// Replaces cfg.database by precedence: `option` (--database) > `environment`
/// (the value of LSCGATE_DATABASE; nullptr or "" = unset) > lscgate.toml >
/// the default "lscgate.db", records the origin and validates the winner.
/// Errors (Config): an empty or malformed setting, named by its origin.
Status apply_database_override(Config& cfg, const std::optional<std::string>& option, const char* environment);

/// A new lscgate.toml naming `database` in [store] (written as a TOML string).
std::string default_config_text(const std::string& database = "lscgate.db");

}  // namespace lscgate
