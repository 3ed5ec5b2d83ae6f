// lscgate_bridge.cpp - the C++ side of the rlm_lscgate boundary (see lscgate_bridge.h).
//
// Every exported function is extern "C", noexcept and catches everything: an
// exception that reached the C and FreeRADIUS frames would end in std::terminate
// and take the server down.
//
// This first decision is deliberately small and lives here until it moves onto the
// core's classification/policy engine (core/decision_engine.h) behind the same C
// API: a registry lookup by issuer + serial for EAP-TLS, by device name for VPN
// authorization. The database is opened read-only once, at instantiate, as a small
// pool of connections with their statements prepared up front; a request takes one
// idle connection, runs one indexed query and gives it back. Nothing per request
// opens files or parses PEM.

#include "lscgate_bridge.h"

#include "core/device_name.h"
#include "core/store.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using lscgate::Result;
using lscgate::SqliteStatement;
using lscgate::Store;

constexpr std::size_t kConnections = 4;  // worker threads beyond this queue for a connection
constexpr int kBusyTimeoutMs = 1000;     // WAL readers rarely wait; never hold a RADIUS worker long

// issuer + serial → the certificate row (index certificates_issuer_serial). LIMIT 2 so
// that a duplicate is noticed without reading a whole table.
constexpr std::string_view kByIssuerSerial =
    "SELECT kind, status, not_before, not_after, device_name FROM certificates "
    "WHERE serial = ?1 AND issuer_oneline = ?2 LIMIT 2";

// device → its most relevant LSC: the active one if any, else the newest (index certificates_device).
constexpr std::string_view kLscByDevice =
    "SELECT status, not_before, not_after, serial FROM certificates "
    "WHERE device_name = ?1 AND kind = 'lsc' ORDER BY status = 'active' DESC, id DESC LIMIT 1";

enum class VpnUserName { Cn, Dn };

struct Connection {
    std::mutex mutex;
    std::optional<Store> store;       // declared first: destroyed after the statements
    SqliteStatement by_issuer_serial;
    SqliteStatement lsc_by_device;
};

struct Verdict {
    lscgate_decision decision;
    std::string cls;
    std::string reason;
};

Verdict accept(std::string reason) { return {LSCGATE_ACCEPT, "lsc-valid", std::move(reason)}; }
Verdict reject(std::string cls, std::string reason) { return {LSCGATE_REJECT, std::move(cls), std::move(reason)}; }
Verdict noop(std::string reason) { return {LSCGATE_NOOP, "", std::move(reason)}; }
Verdict error(std::string reason) { return {LSCGATE_ERROR, "error", std::move(reason)}; }

// Resets a statement on every way out of a lookup, so no read transaction stays open.
struct ResetOnExit {
    SqliteStatement& st;
    ~ResetOnExit() { st.reset(); }
};

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// FreeRADIUS prints the serial's content octets as lowercase hex ("0a1b..."); the
// registry holds BN_bn2hex output: upper case, whole bytes, no leading zero bytes
// ("A1B..." becomes "0A1B"). Separators (':' or ' ') are tolerated.
std::optional<std::string> normalize_serial(std::string_view in) {
    std::string hex;
    hex.reserve(in.size());
    for (char c : in) {
        if (c == ':' || c == ' ') continue;
        if (!is_hex(c)) return std::nullopt;
        hex.push_back(static_cast<char>(c >= 'a' && c <= 'f' ? c - 'a' + 'A' : c));
    }
    if (hex.empty() || hex.size() > 128) return std::nullopt;
    const auto first = hex.find_first_not_of('0');
    if (first == std::string::npos) return std::string("0");
    hex.erase(0, first);
    if (hex.size() % 2 != 0) hex.insert(hex.begin(), '0');
    return hex;
}

std::string utc_text(std::int64_t t) {
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string_view trim(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto x = static_cast<unsigned char>(a[i]);
        const auto y = static_cast<unsigned char>(b[i]);
        if (std::tolower(x) != std::tolower(y)) return false;
    }
    return true;
}

// The CN of a DN as an ASA may send it with "username-from-certificate
// use-entire-name": RFC 2253 style "cn=SEP…,ou=…,o=…,c=US" (keys in any case, '\'
// escapes) or OpenSSL oneline "/O=…/CN=SEP…". Exactly one CN, or an error; the
// result still has to pass normalize_device_name, which admits no separators.
Result<std::string> common_name_of_dn(std::string_view dn) {
    std::vector<std::string> parts;
    std::string cur;
    const bool oneline = !dn.empty() && dn.front() == '/';
    if (oneline) dn.remove_prefix(1);
    for (std::size_t i = 0; i < dn.size(); ++i) {
        const char ch = dn[i];
        if (ch == '\\' && i + 1 < dn.size()) {
            cur.push_back(dn[++i]);
            continue;
        }
        if ((oneline && ch == '/') || (!oneline && (ch == ',' || ch == ';' || ch == '+'))) {
            parts.push_back(std::move(cur));
            cur.clear();
            continue;
        }
        cur.push_back(ch);
    }
    parts.push_back(std::move(cur));
    std::optional<std::string> cn;
    int count = 0;
    for (const auto& part : parts) {
        const auto eq = part.find('=');
        if (eq == std::string::npos) return lscgate::fail("'" + part + "' is not ATTRIBUTE=value");
        const auto key = trim(std::string_view(part).substr(0, eq));
        if (iequals(key, "CN") || iequals(key, "commonName")) {
            ++count;
            cn = std::string(trim(std::string_view(part).substr(eq + 1)));
        }
    }
    if (count != 1) return lscgate::fail("the DN has " + std::to_string(count) + " CN attributes, expected 1");
    return *cn;
}

// The device name an ASA sends: the CN itself, or a whole DN holding it.
Result<std::string> device_from_user_name(std::string_view user, VpnUserName mode) {
    if (mode == VpnUserName::Cn) return lscgate::normalize_device_name(user);
    auto cn = common_name_of_dn(user);
    if (!cn) return cn.error();
    return lscgate::normalize_device_name(*cn);
}

void copy_out(char* out, std::size_t len, std::string_view text) noexcept {
    if (out == nullptr || len == 0) return;
    const std::size_t n = std::min(len - 1, text.size());
    std::memcpy(out, text.data(), n);
    out[n] = '\0';
}

// For catch handlers: no allocation, so nothing can throw there.
void copy_out(char* out, std::size_t len, const char* prefix, const char* text) noexcept {
    if (out == nullptr || len == 0) return;
    std::snprintf(out, len, "%s%s", prefix, text != nullptr ? text : "");
}

}  // namespace

struct lscgate_engine {
    std::string database;
    VpnUserName vpn_user_name = VpnUserName::Cn;
    std::vector<std::unique_ptr<Connection>> pool;
    std::atomic<std::size_t> next{0};

    // An idle connection if there is one, else wait for the one round-robin picks.
    std::unique_lock<std::mutex> acquire(Connection*& out) {
        const std::size_t start = next.fetch_add(1, std::memory_order_relaxed);
        for (std::size_t i = 0; i < pool.size(); ++i) {
            Connection& c = *pool[(start + i) % pool.size()];
            std::unique_lock lock(c.mutex, std::try_to_lock);
            if (lock.owns_lock()) {
                out = &c;
                return lock;
            }
        }
        Connection& c = *pool[start % pool.size()];
        out = &c;
        return std::unique_lock(c.mutex);
    }

    Verdict decide(const lscgate_facts& f);
    Verdict decide_certificate(const lscgate_facts& f, std::int64_t now);
    Verdict decide_vpn(const lscgate_facts& f, std::int64_t now);
};

Verdict lscgate_engine::decide(const lscgate_facts& f) {
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    const bool has_cert = (f.client_cert_serial != nullptr && *f.client_cert_serial != '\0') ||
                          (f.client_cert_issuer != nullptr && *f.client_cert_issuer != '\0');
    if (has_cert) return decide_certificate(f, now);
    if (f.hook == LSCGATE_HOOK_POST_AUTH) return noop("no client certificate attributes in post-auth");
    if (f.eap_message_present != 0) return noop("EAP conversation in progress, no certificate attributes yet");
    if (f.user_name == nullptr || *f.user_name == '\0') return noop("no client certificate and no User-Name");
    return decide_vpn(f, now);
}

Verdict lscgate_engine::decide_certificate(const lscgate_facts& f, std::int64_t now) {
    if (f.client_cert_serial == nullptr || *f.client_cert_serial == '\0')
        return reject("lsc-unregistered", "client certificate without TLS-Client-Cert-Serial");
    if (f.client_cert_issuer == nullptr || *f.client_cert_issuer == '\0')
        return reject("lsc-unregistered", "client certificate without TLS-Client-Cert-Issuer");
    const auto serial = normalize_serial(f.client_cert_serial);
    if (!serial) return reject("lsc-unregistered", std::string("malformed certificate serial '") + f.client_cert_serial + "'");
    const std::string issuer = f.client_cert_issuer;
    const std::string who = "serial " + *serial + " issuer " + issuer;

    Connection* c = nullptr;
    auto lock = acquire(c);
    SqliteStatement& st = c->by_issuer_serial;
    ResetOnExit reset{st};
    st.bind(1, *serial).bind(2, issuer);
    auto row = st.step();
    if (!row) return error("registry lookup failed for " + who + ": " + row.message());
    if (!*row) return reject("lsc-unregistered", "no registry entry for " + who);
    const std::string kind = st.column_text(0);
    const std::string status = st.column_text(1);
    const std::int64_t not_before = st.column_int(2);
    const std::int64_t not_after = st.column_int(3);
    const std::string device = st.column_text(4);
    auto second = st.step();
    if (!second) return error("registry lookup failed for " + who + ": " + second.message());
    if (*second) return reject("lsc-unregistered", "more than one registry entry for " + who);

    const std::string what = *serial + " of " + device;
    if (kind == "mic") return reject("mic", "certificate " + what + " is registered as a manufacturing certificate (MIC), not an LSC");
    if (kind != "lsc") return error("registry entry for " + who + " has unknown kind '" + kind + "'");
    if (status == "revoked") return reject("lsc-revoked", "LSC " + what + " is revoked");
    if (status == "removed") return reject("lsc-revoked", "LSC " + what + " was deleted from the device");
    if (status == "superseded") return reject("lsc-superseded", "LSC " + what + " was superseded by a newer LSC");
    if (status == "fetched")
        return reject("lsc-unregistered", "certificate " + what + " is known only as fetched from the phone, not as an LSC issued here");
    if (status != "active") return error("registry entry for " + who + " has unknown status '" + status + "'");
    if (now < not_before) return reject("lsc-not-yet-valid", "LSC " + what + " is valid only from " + utc_text(not_before));
    if (now > not_after) return reject("lsc-expired", "LSC " + what + " expired " + utc_text(not_after));
    return accept("active LSC " + what + ", valid until " + utc_text(not_after));
}

Verdict lscgate_engine::decide_vpn(const lscgate_facts& f, std::int64_t now) {
    auto device = device_from_user_name(f.user_name, vpn_user_name);
    if (!device) return reject("lsc-unregistered", "User-Name '" + std::string(f.user_name) + "': " + device.message());

    Connection* c = nullptr;
    auto lock = acquire(c);
    SqliteStatement& st = c->lsc_by_device;
    ResetOnExit reset{st};
    st.bind(1, *device);
    auto row = st.step();
    if (!row) return error("registry lookup failed for device " + *device + ": " + row.message());
    if (!*row) return reject("lsc-unregistered", "no LSC registered for device " + *device);
    const std::string status = st.column_text(0);
    const std::int64_t not_before = st.column_int(1);
    const std::int64_t not_after = st.column_int(2);
    const std::string serial = st.column_text(3);
    const std::string what = "LSC " + serial + " of " + *device;
    if (status == "active") {
        if (now < not_before) return reject("lsc-not-yet-valid", what + " is valid only from " + utc_text(not_before));
        if (now > not_after) return reject("lsc-expired", what + " expired " + utc_text(not_after));
        return accept("active " + what + ", valid until " + utc_text(not_after));
    }
    if (status == "revoked") return reject("lsc-revoked", "no active LSC: " + what + " is revoked");
    if (status == "removed") return reject("lsc-revoked", "no active LSC: " + what + " was deleted from the device");
    if (status == "superseded") return reject("lsc-superseded", "no active LSC: " + what + " was superseded");
    return reject("lsc-unregistered", "device " + *device + " has no active LSC (latest is " + status + ")");
}

extern "C" {

lscgate_engine* lscgate_engine_create(lscgate_config const* config, char* err, size_t err_len) noexcept try {
    copy_out(err, err_len, "");
    if (config == nullptr || config->database == nullptr || *config->database == '\0') {
        copy_out(err, err_len, "'database' is not set");
        return nullptr;
    }
    auto engine = std::make_unique<lscgate_engine>();
    engine->database = config->database;
    const std::string_view mode = config->vpn_user_name != nullptr ? config->vpn_user_name : "cn";
    if (mode == "cn") engine->vpn_user_name = VpnUserName::Cn;
    else if (mode == "dn") engine->vpn_user_name = VpnUserName::Dn;
    else {
        copy_out(err, err_len, "vpn_user_name must be \"cn\" or \"dn\", not \"" + std::string(mode) + "\"");
        return nullptr;
    }
    if (config->policy != nullptr && *config->policy != '\0') {
        // Reserved: refusing is safer than silently ignoring a policy the administrator expects to apply.
        copy_out(err, err_len, "'policy' is reserved for a later release and must be empty");
        return nullptr;
    }
    for (std::size_t i = 0; i < kConnections; ++i) {
        auto store = Store::open(engine->database, Store::OpenMode::ReadOnly, kBusyTimeoutMs);
        if (!store) {
            std::string why = store.message();
            if (why.find("readonly") != std::string::npos || why.find("unable to open") != std::string::npos)
                why += " (the server's user needs read access to the database and its -wal/-shm files; while no "
                       "lscgate process keeps them open, also write access to the directory to create them)";
            copy_out(err, err_len, why);
            return nullptr;
        }
        auto conn = std::make_unique<Connection>();
        conn->store.emplace(std::move(*store));
        auto a = conn->store->database().prepare(kByIssuerSerial);
        if (!a) {
            copy_out(err, err_len, engine->database + ": " + a.message());
            return nullptr;
        }
        auto b = conn->store->database().prepare(kLscByDevice);
        if (!b) {
            copy_out(err, err_len, engine->database + ": " + b.message());
            return nullptr;
        }
        conn->by_issuer_serial = std::move(*a);
        conn->lsc_by_device = std::move(*b);
        engine->pool.push_back(std::move(conn));
    }
    return engine.release();
} catch (const std::exception& e) {
    copy_out(err, err_len, "internal error: ", e.what());
    return nullptr;
} catch (...) {
    copy_out(err, err_len, "internal error");
    return nullptr;
}

void lscgate_engine_free(lscgate_engine* engine) noexcept {
    try {
        delete engine;
    } catch (...) {
        // Destructors do not throw; nothing may escape into the server either way.
    }
}

lscgate_decision lscgate_decide(lscgate_engine* engine, lscgate_facts const* facts, char* class_out, size_t class_len,
                                char* reason_out, size_t reason_len) noexcept try {
    copy_out(class_out, class_len, "error");
    copy_out(reason_out, reason_len, "");
    if (engine == nullptr || facts == nullptr) {
        copy_out(reason_out, reason_len, "no engine or no facts");
        return LSCGATE_ERROR;
    }
    Verdict v = engine->decide(*facts);
    // Reasons quote request data (User-Name, DNs): no control characters into log lines.
    for (char& ch : v.reason)
        if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
    copy_out(class_out, class_len, v.cls);
    copy_out(reason_out, reason_len, v.reason);
    return v.decision;
} catch (const std::exception& e) {
    copy_out(class_out, class_len, "error");
    copy_out(reason_out, reason_len, "internal error: ", e.what());
    return LSCGATE_ERROR;
} catch (...) {
    copy_out(class_out, class_len, "error");
    copy_out(reason_out, reason_len, "internal error");
    return LSCGATE_ERROR;
}

char const* lscgate_decision_name(lscgate_decision decision) noexcept {
    switch (decision) {
        case LSCGATE_ACCEPT: return "accept";
        case LSCGATE_REJECT: return "reject";
        case LSCGATE_NOOP: return "noop";
        case LSCGATE_ERROR: return "error";
    }
    return "error";
}

}  // extern "C"
