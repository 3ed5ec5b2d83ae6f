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
max_sessions = 10000     # concurrent phone sessions (bounded by the open-file limit); more are closed at once
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

[coa]
# Change of Authorization (RFC 5176) after `lscgate revoke NAME --disconnect`: each switch
# the phone last authenticated through (last-seen) ends or re-authenticates its session.
on_revoke = false        # send it on every revoke, without --disconnect
port = 1700              # the switches' CoA port: Cisco IOS 1700 (aaa server radius dynamic-author); RFC 5176: 3799
mode = "reauthenticate"  # reauthenticate (CoA-Request, subscriber:command=reauthenticate) | disconnect (Disconnect-Request)
timeout = 3              # seconds to wait for an answer after each send (1-60)
retries = 2              # retransmissions after the first send (0-10)
secrets_file = "coa-secrets"  # lines "NAS-ADDRESS SECRET [PORT]", mode 0600; never secrets in this file
last_seen = ""           # SQLite registry: the RADIUS node's last_seen_database file ("" with PostgreSQL)

[web]
# lscgate web: the administration pages over HTTPS (lscgate admin add NAME --role admin|helpdesk).
listen = "127.0.0.1:8443"  # a non-loopback address is refused unless allow_remote = true
allow_remote = false
certificate = ""         # PEM certificate (chain) of the pages; "" = web.crt here, self-signed, made at first start
key = ""                 # its private key (mode 0600); "" = web.key here
session_idle = 900       # seconds without a request before a session ends (60-86400)
session_absolute = 28800 # seconds after sign-in when a session ends whatever (300-604800)
lockout_failures = 5     # wrong passwords in a row before an account is locked (1-100)
lockout_seconds = 900    # how long it stays locked (60-86400)
last_seen = ""           # SQLite registry: the RADIUS node's last_seen_database file for the pages ("" = [coa] last_seen)
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
// A CoA answer comes within a second or two; a minute per try is already a NAS
// that is not there. Ten retransmissions cover any lossy path (RFC 5080 §2.2.1).
constexpr std::int64_t kMaxCoaTimeout = 60;
constexpr std::int64_t kMaxCoaRetries = 10;

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
    if (coa_port < 1 || coa_port > 65535) return fail(ErrorKind::Config, "[coa] port must be 1 to 65535");
    if (coa_mode != "reauthenticate" && coa_mode != "disconnect")
        return fail(ErrorKind::Config, "[coa] mode must be reauthenticate or disconnect");
    if (coa_timeout_s < 1 || coa_timeout_s > kMaxCoaTimeout)
        return fail(ErrorKind::Config, "[coa] timeout must be 1 to 60 seconds");
    if (coa_retries < 0 || coa_retries > kMaxCoaRetries) return fail(ErrorKind::Config, "[coa] retries must be 0 to 10");
    if (auto s = web.validate(); !s) return s;
    return validate_database_setting(database, database_origin);
}

namespace {

// [web]: `lscgate web` (module/web), ranges as WebSettings::validate.
Status read_web(TomlReader& r, WebSettings& web) {
    for (auto s : {r.string("web", "listen", web.listen), r.boolean("web", "allow_remote", web.allow_remote),
                   r.path("web", "certificate", web.certificate), r.path("web", "key", web.key),
                   r.integer("web", "session_idle", 60, 86400, web.session_idle_s),
                   r.integer("web", "session_absolute", 300, 604800, web.session_absolute_s),
                   r.integer("web", "lockout_failures", 1, 100, web.lockout_failures),
                   r.integer("web", "lockout_seconds", 60, 86400, web.lockout_seconds),
                   r.path("web", "last_seen", web.last_seen)}) {
        if (!s) return s;
    }
    return {};
}

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
                   r.boolean("auth", "accept_expired_mic", cfg.accept_expired_mic), r.choice("auth", "sudi", {"ignore", "verify-if-present", "require"}, sudi),
                   r.boolean("coa", "on_revoke", cfg.coa_on_revoke), r.integer("coa", "port", 1, 65535, cfg.coa_port),
                   r.choice("coa", "mode", {"reauthenticate", "disconnect"}, cfg.coa_mode),
                   r.integer("coa", "timeout", 1, kMaxCoaTimeout, cfg.coa_timeout_s),
                   r.integer("coa", "retries", 0, kMaxCoaRetries, cfg.coa_retries),
                   r.path("coa", "secrets_file", cfg.coa_secrets_file), r.path("coa", "last_seen", cfg.coa_last_seen)}) {
        if (!s) return s;
    }
    if (auto s = read_web(r, cfg.web); !s) return s;
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

Status WebSettings::validate() const {
    if (listen.empty()) return fail(ErrorKind::Config, "[web] listen must not be empty");
    if (certificate.empty() != key.empty())
        return fail(ErrorKind::Config, "[web] certificate and key go together: give both, or neither for a self-signed one");
    if (session_idle_s < 60 || session_idle_s > 86400) return fail(ErrorKind::Config, "[web] session_idle must be 60 to 86400 seconds");
    if (session_absolute_s < 300 || session_absolute_s > 604800)
        return fail(ErrorKind::Config, "[web] session_absolute must be 300 to 604800 seconds");
    if (session_idle_s > session_absolute_s)
        return fail(ErrorKind::Config, "[web] session_idle must not exceed session_absolute");
    if (lockout_failures < 1 || lockout_failures > 100) return fail(ErrorKind::Config, "[web] lockout_failures must be 1 to 100");
    if (lockout_seconds < 60 || lockout_seconds > 86400) return fail(ErrorKind::Config, "[web] lockout_seconds must be 60 to 86400");
    return {};
}

Status apply_database_override(Config& cfg, const std::optional<std::string>& option, const char* environment) {
    std::string origin;
    cfg.database = choose_database(option, environment, cfg.database, origin);
    cfg.database_origin = origin;
    return validate_database_setting(cfg.database, cfg.database_origin);
}

}  // namespace lscgate
