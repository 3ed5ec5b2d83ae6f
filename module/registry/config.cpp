#include "registry/config.h"

#include "pki/issuer.h"
#include "registry/toml_reader.h"

#include <toml++/toml.h>

#include <sstream>

namespace lscgate {

std::string default_config_text(const std::string& database) {
    // toml++ writes the string with TOML's quoting and escapes (a conninfo may hold quotes and backslashes).
    std::ostringstream quoted;
    quoted << toml::value<std::string>(database);
    std::string text = R"(# lscgate configuration. Relative paths are relative to the lscgate directory
# (--dir, $LSCGATE_DIR, default /var/lib/lscgate) where this file is, or is linked
# from (the Debian package: /var/lib/lscgate/lscgate.toml -> /etc/lscgate/lscgate.toml).
# `lscgate serve` re-reads it on SIGHUP (systemctl reload lscgate).

[capf]
cert = "capf.crt"        # CAPF certificate presented to phones and used to sign LSCs
key = "capf.key"         # its private key (mode 0600)
chain = "capf-chain.pem"  # intermediates sent with the CAPF certificate (used when the file exists)
lsc_days = 365           # validity of issued LSCs (1-3650)
backdate_seconds = 300   # notBefore of issued certificates lies this far in the past, for clocks that lag (0-3600)
trust_refresh = 10       # seconds between re-reads of the trusted CAPF certificates (0: start and SIGHUP only)
crl_url = ""             # e.g. "http://capf.example.net/capf.crl": CRL Distribution Point in new LSCs ("" = none)
session_history = 100000  # CAPF sessions kept in the registry (lscgate capf sessions), newest first (1-10000000)

[crl]
file = "capf.crl"        # the CAPF's CRL (DER), renewed by lscgate revoke, lscgate crl and lscgate serve
validity = 604800        # seconds from thisUpdate to nextUpdate (3600-31536000); renewed after half of it
include_superseded = false  # also list LSCs replaced by a newer one (reason superseded)
refresh = 60             # seconds between lscgate serve's checks of the registry for revocations

[store]
# A SQLite file (relative to this directory) or a PostgreSQL URI/conninfo, e.g.
# "postgresql://lscgate_issuer@db.example.net/radius" (password in ~/.pgpass).
# LSCGATE_DATABASE and --database override it.
database = @DATABASE@

[server]
listen = "0.0.0.0:3804"
tls_min = "1.2"          # "1.0" only for legacy phones (79xx firmware 9.x); enables SECLEVEL 0
max_sessions = 64        # concurrent phone sessions; more are closed after the handshake
handshake_timeout = 15   # seconds
reply_timeout = 30       # seconds to wait for an ordinary phone reply
keygen_timeout = 300     # seconds to wait for key generation (restarted by REQUEST_IN_PROGRESS)

[auth]
mic_roots = ""           # PEM file or directory with Cisco manufacturing (and SUDI) CA certificates
lockout_failures = 5     # failed authentications before a device is locked out
lockout_seconds = 900
allow_sha1_only_proof = false  # accept certificate proofs without SHA2_SIGNED_DATA (old firmware)
accept_expired_mic = false     # accept MICs past notAfter (older phone models)
sudi = "verify-if-present"     # ignore | verify-if-present | require
)";
    const auto at = text.find("@DATABASE@");
    text.replace(at, std::string_view("@DATABASE@").size(), quoted.str());
    return text;
}

namespace {

// Ranges shared by the loader (which reports FILE:LINE) and validate() (which
// also checks values overridden on the command line).
constexpr std::int64_t kMaxTimeoutSeconds = 3600;
constexpr std::int64_t kMaxLockoutSeconds = 86400 * 30;
// A CRL valid for less than an hour is renewed too often to be fetched in time;
// more than a year lets a revocation wait that long at a head-end that caches it.
constexpr std::int64_t kMinCrlValidity = 3600;
constexpr std::int64_t kMaxCrlValidity = 86400 * 365;

}  // namespace

Status Config::validate() const {
    if (lsc_days < 1 || lsc_days > 3650) return fail(ErrorKind::Config, "[capf] lsc_days must be 1 to 3650");
    if (backdate_seconds < 0 || backdate_seconds > 3600)
        return fail(ErrorKind::Config, "[capf] backdate_seconds must be 0 to 3600");
    if (trust_refresh_s < 0 || trust_refresh_s > 86400)
        return fail(ErrorKind::Config, "[capf] trust_refresh must be 0 to 86400 seconds");
    if (session_history < 1 || session_history > kMaxSessionHistory)
        return fail(ErrorKind::Config, "[capf] session_history must be 1 to " + std::to_string(kMaxSessionHistory));
    if (tls_min != "1.0" && tls_min != "1.2" && tls_min != "1.3")
        return fail(ErrorKind::Config, "[server] tls_min must be 1.0, 1.2 or 1.3");
    if (max_sessions < 1 || max_sessions > 10000) return fail(ErrorKind::Config, "[server] max_sessions must be 1 to 10000");
    for (auto [v, name] : {std::pair{handshake_timeout_s, "handshake_timeout"}, std::pair{reply_timeout_s, "reply_timeout"},
                           std::pair{keygen_timeout_s, "keygen_timeout"}})
        if (v < 1 || v > kMaxTimeoutSeconds)
            return fail(ErrorKind::Config, std::string("[server] ") + name + " must be 1 to 3600 seconds");
    if (lockout_failures < 1 || lockout_failures > 1000)
        return fail(ErrorKind::Config, "[auth] lockout_failures must be 1 to 1000");
    if (lockout_seconds < 0 || lockout_seconds > kMaxLockoutSeconds)
        return fail(ErrorKind::Config, "[auth] lockout_seconds must be 0 to 2592000");
    if (!crl_url.empty()) {
        if (auto why = crl_url_problem(crl_url); !why.empty()) return fail(ErrorKind::Config, "[capf] crl_url " + why);
    }
    if (crl_validity_s < kMinCrlValidity || crl_validity_s > kMaxCrlValidity)
        return fail(ErrorKind::Config, "[crl] validity must be 3600 to 31536000 seconds");
    if (crl_refresh_s < 1 || crl_refresh_s > 86400) return fail(ErrorKind::Config, "[crl] refresh must be 1 to 86400 seconds");
    return validate_database_setting(database, database_origin);
}

namespace {

// Every key lscgate.toml may hold, read with its type and range; anything else
// in the file is refused by reject_unknown().
Status read_all(TomlReader& r, Config& cfg, std::string& sudi) {
    for (auto s : {r.path("capf", "cert", cfg.capf_cert), r.path("capf", "key", cfg.capf_key),
                   r.path("capf", "chain", cfg.capf_chain), r.integer("capf", "lsc_days", 1, 3650, cfg.lsc_days),
                   r.integer("capf", "backdate_seconds", 0, 3600, cfg.backdate_seconds),
                   r.integer("capf", "trust_refresh", 0, 86400, cfg.trust_refresh_s),
                   r.integer("capf", "session_history", 1, kMaxSessionHistory, cfg.session_history),
                   r.string("capf", "crl_url", cfg.crl_url), r.path("crl", "file", cfg.crl_file),
                   r.integer("crl", "validity", kMinCrlValidity, kMaxCrlValidity, cfg.crl_validity_s),
                   r.boolean("crl", "include_superseded", cfg.crl_include_superseded),
                   r.integer("crl", "refresh", 1, 86400, cfg.crl_refresh_s),
                   r.string("store", "database", cfg.database), r.string("server", "listen", cfg.listen),
                   r.choice("server", "tls_min", {"1.0", "1.2", "1.3"}, cfg.tls_min),
                   r.integer("server", "max_sessions", 1, 10000, cfg.max_sessions),
                   r.integer("server", "handshake_timeout", 1, kMaxTimeoutSeconds, cfg.handshake_timeout_s),
                   r.integer("server", "reply_timeout", 1, kMaxTimeoutSeconds, cfg.reply_timeout_s),
                   r.integer("server", "keygen_timeout", 1, kMaxTimeoutSeconds, cfg.keygen_timeout_s),
                   r.path("auth", "mic_roots", cfg.mic_roots),
                   r.integer("auth", "lockout_failures", 1, 1000, cfg.lockout_failures),
                   r.integer("auth", "lockout_seconds", 0, kMaxLockoutSeconds, cfg.lockout_seconds),
                   r.boolean("auth", "allow_sha1_only_proof", cfg.allow_sha1_only_proof),
                   r.boolean("auth", "accept_expired_mic", cfg.accept_expired_mic), r.choice("auth", "sudi", {"ignore", "verify-if-present", "require"}, sudi)}) {
        if (!s) return s;
    }
    return r.reject_unknown();
}

}  // namespace

Result<Config> load_config(const std::filesystem::path& dir) {
    Config cfg;
    cfg.dir = dir;
    const auto path = dir / "lscgate.toml";
    if (!std::filesystem::exists(path))
        return fail(ErrorKind::Config, path.string() + " not found (run 'lscgate init --dir " + dir.string() + "' first)");
    toml::table t;
    try {
        t = toml::parse_file(path.string());
    } catch (const toml::parse_error& e) {
        std::ostringstream os;
        os << path.string() << ":" << e.source().begin.line << ": " << e.description();
        return fail(ErrorKind::Config, os.str());
    }
    TomlReader reader(t, path.string());
    std::string sudi = "verify-if-present";
    if (auto s = read_all(reader, cfg, sudi); !s) return s.error();
    if (sudi == "ignore") cfg.sudi = SudiPolicy::Ignore;
    else if (sudi == "verify-if-present") cfg.sudi = SudiPolicy::VerifyIfPresent;
    else cfg.sudi = SudiPolicy::Require;
    if (auto s = cfg.validate(); !s) return fail(ErrorKind::Config, path.string() + ": " + s.message());
    return cfg;
}

}  // namespace lscgate

namespace lscgate {

Status apply_database_override(Config& cfg, const std::optional<std::string>& option, const char* environment) {
    std::string origin;
    cfg.database = choose_database(option, environment, cfg.database, origin);
    cfg.database_origin = origin;
    return validate_database_setting(cfg.database, cfg.database_origin);
}

}  // namespace lscgate
