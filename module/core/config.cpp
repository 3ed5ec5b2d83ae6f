#include "core/config.h"

#include <toml++/toml.h>

#include <sstream>

namespace lscgate {

std::string default_config_text() {
    return R"(# lscgate configuration. Relative paths are relative to this directory.

[capf]
cert = "capf.crt"        # CAPF certificate presented to phones and used to sign LSCs
key = "capf.key"         # its private key (mode 0600)
chain = "capf-chain.pem"  # intermediates sent with the CAPF certificate (used when the file exists)
lsc_days = 365           # validity of issued LSCs (1-3650)
backdate_seconds = 300   # notBefore of issued certificates lies this far in the past, for clocks that lag (0-3600)
trust_refresh = 10       # seconds between re-reads of the trusted CAPF certificates (0: start and SIGHUP only)

[store]
database = "lscgate.db"

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
}

namespace {

template <class T>
Status read_value(const toml::table& t, std::string_view section, std::string_view key, T& out) {
    const auto node = t[section][key];
    if (!node) return {};
    if constexpr (std::is_same_v<T, int>) {
        auto v = node.value<int64_t>();
        if (!v) return fail("[" + std::string(section) + "] " + std::string(key) + " must be an integer");
        out = static_cast<int>(*v);
    } else if constexpr (std::is_same_v<T, bool>) {
        auto v = node.value<bool>();
        if (!v) return fail("[" + std::string(section) + "] " + std::string(key) + " must be true or false");
        out = *v;
    } else {
        auto v = node.value<std::string>();
        if (!v) return fail("[" + std::string(section) + "] " + std::string(key) + " must be a string");
        out = T(*v);
    }
    return {};
}

}  // namespace

Status Config::validate() const {
    if (lsc_days < 1 || lsc_days > 3650) return fail("[capf] lsc_days must be 1 to 3650");
    if (backdate_seconds < 0 || backdate_seconds > 3600) return fail("[capf] backdate_seconds must be 0 to 3600");
    if (trust_refresh_s < 0 || trust_refresh_s > 86400) return fail("[capf] trust_refresh must be 0 to 86400 seconds");
    if (tls_min != "1.0" && tls_min != "1.2" && tls_min != "1.3") return fail("[server] tls_min must be 1.0, 1.2 or 1.3");
    if (max_sessions < 1 || max_sessions > 10000) return fail("[server] max_sessions must be 1 to 10000");
    for (auto [v, name] : {std::pair{handshake_timeout_s, "handshake_timeout"}, std::pair{reply_timeout_s, "reply_timeout"},
                           std::pair{keygen_timeout_s, "keygen_timeout"}})
        if (v < 1 || v > 3600) return fail(std::string("[server] ") + name + " must be 1 to 3600 seconds");
    if (lockout_failures < 1 || lockout_failures > 1000) return fail("[auth] lockout_failures must be 1 to 1000");
    if (lockout_seconds < 0 || lockout_seconds > 86400 * 30) return fail("[auth] lockout_seconds must be 0 to 2592000");
    return {};
}

Result<Config> load_config(const std::filesystem::path& dir) {
    Config cfg;
    cfg.dir = dir;
    const auto path = dir / "lscgate.toml";
    if (!std::filesystem::exists(path))
        return fail(path.string() + " not found (run 'lscgate init --dir " + dir.string() + "' first)");
    toml::table t;
    try {
        t = toml::parse_file(path.string());
    } catch (const toml::parse_error& e) {
        std::ostringstream os;
        os << path.string() << ":" << e.source().begin.line << ": " << e.description();
        return fail(os.str());
    }
    if (auto s = read_value(t, "capf", "backdate_seconds", cfg.backdate_seconds); !s)
        return fail(path.string() + ": " + s.message());
    std::string sudi = "verify-if-present";
    for (auto s : {read_value(t, "capf", "cert", cfg.capf_cert), read_value(t, "capf", "key", cfg.capf_key),
                   read_value(t, "capf", "chain", cfg.capf_chain), read_value(t, "capf", "lsc_days", cfg.lsc_days),
                   read_value(t, "capf", "trust_refresh", cfg.trust_refresh_s),
                   read_value(t, "store", "database", cfg.database), read_value(t, "server", "listen", cfg.listen),
                   read_value(t, "server", "tls_min", cfg.tls_min),
                   read_value(t, "server", "max_sessions", cfg.max_sessions),
                   read_value(t, "server", "handshake_timeout", cfg.handshake_timeout_s),
                   read_value(t, "server", "reply_timeout", cfg.reply_timeout_s),
                   read_value(t, "server", "keygen_timeout", cfg.keygen_timeout_s),
                   read_value(t, "auth", "mic_roots", cfg.mic_roots),
                   read_value(t, "auth", "lockout_failures", cfg.lockout_failures),
                   read_value(t, "auth", "lockout_seconds", cfg.lockout_seconds),
                   read_value(t, "auth", "allow_sha1_only_proof", cfg.allow_sha1_only_proof),
                   read_value(t, "auth", "accept_expired_mic", cfg.accept_expired_mic),
                   read_value(t, "auth", "sudi", sudi)}) {
        if (!s) return fail(path.string() + ": " + s.message());
    }
    if (sudi == "ignore") cfg.sudi = SudiPolicy::Ignore;
    else if (sudi == "verify-if-present") cfg.sudi = SudiPolicy::VerifyIfPresent;
    else if (sudi == "require") cfg.sudi = SudiPolicy::Require;
    else return fail(path.string() + ": [auth] sudi must be ignore, verify-if-present or require");
    if (auto s = cfg.validate(); !s) return fail(path.string() + ": " + s.message());
    return cfg;
}

}  // namespace lscgate
