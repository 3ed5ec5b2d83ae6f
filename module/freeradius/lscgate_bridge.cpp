// lscgate_bridge.cpp - the C++ side of the rlm_lscgate boundary (see lscgate_bridge.h).
//
// Deliberately thin: C structs in, core::DecisionEngine, C structs out. All the
// decision logic (routing, classification, policy, reply attributes, last-seen)
// lives in module/core and is unit-tested there without a server.
//
// Every exported function is extern "C", noexcept and catches everything: an
// exception that reached the C and FreeRADIUS frames would end in std::terminate
// and take the server down. Failures come back as LSCGATE_ERROR (fail closed).

#include "lscgate_bridge.h"

#include "decide/decision_engine.h"
#include "pki/printable.h"
#include "registry/database_kind.h"
#include "registry/postgresql/pq_conninfo.h"

#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct lscgate_engine {
    std::unique_ptr<lscgate::DecisionEngine> engine;
    std::vector<std::string> warnings;  // load_warnings() at creation, handed out by index
};

namespace {

void copy_out(char* out, std::size_t len, std::string_view text) noexcept {
    if (out == nullptr || len == 0) return;
    const std::size_t n = text.size() < len - 1 ? text.size() : len - 1;
    std::memcpy(out, text.data(), n);
    out[n] = '\0';
}

// `head` + `tail` into `out` without allocating: for the catch handlers, which
// may run after a failed allocation (a throw from there would terminate FreeRADIUS).
void copy_out(char* out, std::size_t len, std::string_view head, std::string_view tail) noexcept {
    if (out == nullptr || len == 0) return;
    const std::size_t a = head.size() < len - 1 ? head.size() : len - 1;
    std::memcpy(out, head.data(), a);
    const std::size_t b = tail.size() < len - 1 - a ? tail.size() : len - 1 - a;
    std::memcpy(out + a, tail.data(), b);
    out[a + b] = '\0';
}

std::string_view view(const char* s) noexcept { return s != nullptr ? std::string_view(s) : std::string_view(); }

std::filesystem::path path(const char* s) { return s != nullptr ? std::filesystem::path(s) : std::filesystem::path(); }

lscgate_decision to_c(lscgate::RadiusOutcome o) noexcept {
    switch (o) {
        case lscgate::RadiusOutcome::Accept: return LSCGATE_ACCEPT;
        case lscgate::RadiusOutcome::Restrict: return LSCGATE_RESTRICT;
        case lscgate::RadiusOutcome::Reject: return LSCGATE_REJECT;
        case lscgate::RadiusOutcome::Noop: return LSCGATE_NOOP;
        case lscgate::RadiusOutcome::Error: return LSCGATE_ERROR;
    }
    return LSCGATE_ERROR;
}

void fail_closed(lscgate_result* out, std::string_view why) noexcept {
    out->decision = LSCGATE_ERROR;
    copy_out(out->cls, sizeof out->cls, "error");
    copy_out(out->verdict, sizeof out->verdict, "error");
    copy_out(out->reason, sizeof out->reason, why);
    why = out->reason;  // from here on the (bounded) copy: `why` may be a temporary's view
    // Built without allocating: this runs after a failed allocation too.
    static constexpr std::string_view prefix = "error [error] -: ";
    static constexpr std::string_view suffix = " - failing closed";
    char* p = out->log_line;
    std::memcpy(p, prefix.data(), prefix.size());
    const std::size_t room = sizeof out->log_line - prefix.size() - suffix.size() - 1;
    const std::size_t n = why.size() < room ? why.size() : room;
    std::memcpy(p + prefix.size(), why.data(), n);
    // One log line whatever the cause carries (a path, a library message).
    for (std::size_t i = prefix.size(); i < prefix.size() + n; ++i)
        if (static_cast<unsigned char>(p[i]) < 0x20 || p[i] == 0x7f) p[i] = '?';
    std::memcpy(p + prefix.size() + n, suffix.data(), suffix.size());
    p[prefix.size() + n + suffix.size()] = '\0';
    out->reply_count = 0;
}

// Dictionary names of lscgate_attr, in its order.
constexpr const char* kAttributeNames[LSCGATE_ATTR_COUNT] = {
    "TLS-Client-Cert-Serial",
    "TLS-Client-Cert-Issuer",
    "TLS-Client-Cert-Subject",
    "TLS-Client-Cert-Common-Name",
    "TLS-Client-Cert-Expiration",
    "TLS-Client-Cert-Valid-Since",
    "TLS-Client-Cert-X509v3-Authority-Key-Identifier",
    "TLS-Client-Cert-X509v3-Basic-Constraints",
    "User-Name",
    "NAS-IP-Address",
    "NAS-IPv6-Address",
    "EAP-Type",
    "Calling-Station-Id",
    "NAS-Port-Id",
    "Acct-Session-Id",
};

// The core's view of the C facts: first values, plus every attribute that came
// with more than one value (the core refuses those requests).
lscgate::RadiusRequest to_request(const lscgate_facts& f) {
    const auto v = [&](lscgate_attr a) { return view(f.values[a].value); };
    lscgate::RadiusRequest req;
    req.hook = f.hook == LSCGATE_HOOK_POST_AUTH ? lscgate::RadiusHook::PostAuth : lscgate::RadiusHook::Authorize;
    req.eap_in_progress = f.eap_message_present != 0;
    req.eap_success_in_reply = f.eap_success_in_reply != 0;
    req.client_cert = {v(LSCGATE_ATTR_CLIENT_CERT_SERIAL),      v(LSCGATE_ATTR_CLIENT_CERT_ISSUER),
                       v(LSCGATE_ATTR_CLIENT_CERT_SUBJECT),     v(LSCGATE_ATTR_CLIENT_CERT_COMMON_NAME),
                       v(LSCGATE_ATTR_CLIENT_CERT_VALID_SINCE), v(LSCGATE_ATTR_CLIENT_CERT_EXPIRATION),
                       v(LSCGATE_ATTR_CLIENT_CERT_AUTHORITY_KEY_ID), v(LSCGATE_ATTR_CLIENT_CERT_BASIC_CONSTRAINTS)};
    req.user_name = v(LSCGATE_ATTR_USER_NAME);
    req.eap_type = v(LSCGATE_ATTR_EAP_TYPE);
    req.nas = view(f.nas_address);
    req.calling_station_id = v(LSCGATE_ATTR_CALLING_STATION_ID);
    req.nas_port_id = v(LSCGATE_ATTR_NAS_PORT_ID);
    req.acct_session_id = v(LSCGATE_ATTR_ACCT_SESSION_ID);
    req.log_plain_accepts = f.log_plain_accepts != 0;
    for (unsigned i = 0; i < f.cisco_avpair_count && i < LSCGATE_MAX_AVPAIRS; ++i)
        if (f.cisco_avpairs[i] != nullptr) req.cisco_avpairs.push_back(f.cisco_avpairs[i]);
    // Only the attributes decided on: the last-seen ones may repeat harmlessly.
    for (int a = 0; a < LSCGATE_ATTR_CALLING_STATION_ID; ++a)
        if (f.values[a].count > 1) req.repeated.push_back({kAttributeNames[a], f.values[a].count});
    return req;
}

}  // namespace

extern "C" {

lscgate_engine* lscgate_engine_create(lscgate_config const* config, char* err, size_t err_len) noexcept try {
    copy_out(err, err_len, "");
    if (config == nullptr || config->database == nullptr || *config->database == '\0') {
        copy_out(err, err_len, "'database' is not set");
        return nullptr;
    }
    lscgate::EngineConfig cfg;
    cfg.database = config->database;
    cfg.policy_file = path(config->policy);
    cfg.mic_roots = path(config->mic_roots);
    cfg.capf_extra = path(config->capf_certificates);
    cfg.last_seen_database = path(config->last_seen_database);
    cfg.node_name = std::string(view(config->node_name));
    cfg.trust_refresh = std::chrono::seconds(config->trust_refresh);
    if (config->read_connections > 64) {
        copy_out(err, err_len, "read_connections must be 1-64, not " + std::to_string(config->read_connections));
        return nullptr;
    }
    cfg.read_connections = config->read_connections == 0 ? 4 : config->read_connections;
    if (config->registry_outage_grace > 86400) {
        copy_out(err, err_len,
                 "registry_outage_grace must be 0-86400 seconds, not " + std::to_string(config->registry_outage_grace));
        return nullptr;
    }
    cfg.registry_outage_grace = std::chrono::seconds(config->registry_outage_grace);
    cfg.registry_change_watch = config->registry_change_watch != 0;
    if (config->log_registry != nullptr) {
        // The sink may outlive this engine (the registry pool is shared with the
        // instance a HUP creates), so it captures nothing but the C function.
        void (*sink)(char const*) = config->log_registry;
        cfg.log = [sink](const std::string& message) noexcept { sink(message.c_str()); };
    }
    const std::string_view form = view(config->vpn_user_name);
    if (form.empty() || form == "cn") cfg.vpn_user_name = lscgate::VpnNameForm::CommonName;
    else if (form == "dn") cfg.vpn_user_name = lscgate::VpnNameForm::DistinguishedName;
    else {
        copy_out(err, err_len, "vpn_user_name must be \"cn\" or \"dn\", not \"" + std::string(form) + "\"");
        return nullptr;
    }
    auto engine = lscgate::DecisionEngine::create(cfg);
    if (!engine) {
        copy_out(err, err_len, engine.message());
        return nullptr;
    }
    auto handle = std::make_unique<lscgate_engine>();
    handle->engine = std::move(*engine);
    handle->warnings = handle->engine->load_warnings(static_cast<lscgate::UnixTime>(std::time(nullptr)));
    return handle.release();  // the C side owns it until lscgate_engine_free
} catch (const std::exception& e) {
    copy_out(err, err_len, "cannot create the decision engine: ", e.what());
    return nullptr;
} catch (...) {
    copy_out(err, err_len, "cannot create the decision engine: unknown error");
    return nullptr;
}

char const* lscgate_attribute_name(lscgate_attr attr) noexcept {
    return attr >= 0 && attr < LSCGATE_ATTR_COUNT ? kAttributeNames[attr] : nullptr;
}

size_t lscgate_engine_warning_count(lscgate_engine const* engine) noexcept {
    return engine != nullptr ? engine->warnings.size() : 0;
}

char const* lscgate_engine_warning(lscgate_engine const* engine, size_t i) noexcept {
    return engine != nullptr && i < engine->warnings.size() ? engine->warnings[i].c_str() : nullptr;
}

void lscgate_database_display(char const* database, char* out, size_t len) noexcept {
    try {
        const std::string_view db = view(database);
        if (lscgate::is_postgresql_database(db))
            copy_out(out, len, lscgate::escape_nonprintable(lscgate::redact_conninfo_secrets(std::string(db), db)));
        else
            copy_out(out, len, lscgate::escape_nonprintable(db));
    } catch (...) {
        copy_out(out, len, "(cannot show the database setting)");
    }
}

void lscgate_engine_free(lscgate_engine* engine) noexcept {
    try {
        std::unique_ptr<lscgate_engine> owned(engine);  // destroying it flushes the last-seen recorder
    } catch (...) {
    }
}

lscgate_decision lscgate_decide(lscgate_engine* engine, lscgate_facts const* facts, lscgate_result* out) noexcept {
    if (out == nullptr) return LSCGATE_ERROR;
    std::memset(out, 0, sizeof *out);
    if (engine == nullptr || facts == nullptr) {
        fail_closed(out, "rlm_lscgate has no decision engine");
        return out->decision;
    }
    try {
        const lscgate::RadiusRequest req = to_request(*facts);
        const lscgate::RadiusAnswer answer = engine->engine->decide_request(req, static_cast<lscgate::UnixTime>(std::time(nullptr)));
        out->decision = to_c(answer.outcome);
        const lscgate::Decision& d = answer.decision;
        if (out->decision == LSCGATE_ERROR) copy_out(out->cls, sizeof out->cls, "error");
        else if (out->decision != LSCGATE_NOOP) copy_out(out->cls, sizeof out->cls, lscgate::to_string(d.cls));
        copy_out(out->verdict, sizeof out->verdict, lscgate::to_string(answer.outcome));
        // Device and reason carry certificate- and NAS-supplied text (a CN, a
        // User-Name) into the FreeRADIUS log: escaped, so it stays one line.
        copy_out(out->device, sizeof out->device, lscgate::escape_nonprintable(d.device));
        copy_out(out->reason, sizeof out->reason, lscgate::escape_nonprintable(d.reason));
        if (!answer.log_line.empty())
            copy_out(out->log_line, sizeof out->log_line, lscgate::escape_nonprintable(answer.log_line));
        if (out->decision == LSCGATE_ACCEPT || out->decision == LSCGATE_RESTRICT) {
            for (const auto& attr : d.reply) {
                if (out->reply_count == LSCGATE_MAX_REPLY) break;
                lscgate_reply_pair& p = out->reply[out->reply_count++];
                copy_out(p.name, sizeof p.name, attr.name);
                copy_out(p.value, sizeof p.value, attr.value);
            }
        }
        return out->decision;
    } catch (const std::exception& e) {
        char why[sizeof out->reason];
        copy_out(why, sizeof why, "decision failed: ", e.what());
        fail_closed(out, why);
    } catch (...) {
        fail_closed(out, "decision failed: unknown error");
    }
    return out->decision;
}

}  // extern "C"
