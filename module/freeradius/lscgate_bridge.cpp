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

#include "core/decision_engine.h"

#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

struct lscgate_engine {
    std::unique_ptr<lscgate::DecisionEngine> engine;
};

namespace {

void copy_out(char* out, std::size_t len, std::string_view text) noexcept {
    if (out == nullptr || len == 0) return;
    const std::size_t n = text.size() < len - 1 ? text.size() : len - 1;
    std::memcpy(out, text.data(), n);
    out[n] = '\0';
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

const char* verdict_name(lscgate_decision d) noexcept {
    switch (d) {
        case LSCGATE_ACCEPT: return "accept";
        case LSCGATE_RESTRICT: return "restrict";
        case LSCGATE_REJECT: return "reject";
        case LSCGATE_NOOP: return "noop";
        case LSCGATE_ERROR: return "error";
    }
    return "error";
}

void fail_closed(lscgate_result* out, std::string_view why) noexcept {
    out->decision = LSCGATE_ERROR;
    copy_out(out->cls, sizeof out->cls, "error");
    copy_out(out->verdict, sizeof out->verdict, "error");
    copy_out(out->reason, sizeof out->reason, why);
    out->reply_count = 0;
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
    cfg.trust_refresh = std::chrono::seconds(config->trust_refresh);
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
    return handle.release();  // the C side owns it until lscgate_engine_free
} catch (const std::exception& e) {
    copy_out(err, err_len, std::string("cannot create the decision engine: ") + e.what());
    return nullptr;
} catch (...) {
    copy_out(err, err_len, "cannot create the decision engine: unknown error");
    return nullptr;
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
        lscgate::RadiusRequest req;
        req.hook = facts->hook == LSCGATE_HOOK_POST_AUTH ? lscgate::RadiusHook::PostAuth : lscgate::RadiusHook::Authorize;
        req.eap_in_progress = facts->eap_message_present != 0;
        req.client_cert = {view(facts->client_cert_serial),       view(facts->client_cert_issuer),
                           view(facts->client_cert_subject),      view(facts->client_cert_common_name),
                           view(facts->client_cert_valid_since),  view(facts->client_cert_expiration),
                           view(facts->client_cert_authority_key_id), view(facts->client_cert_basic_constraints)};
        req.user_name = view(facts->user_name);
        req.nas = view(facts->nas_address);
        const lscgate::RadiusAnswer answer = engine->engine->decide_request(req, static_cast<lscgate::UnixTime>(std::time(nullptr)));
        out->decision = to_c(answer.outcome);
        const lscgate::Decision& d = answer.decision;
        if (out->decision == LSCGATE_ERROR) copy_out(out->cls, sizeof out->cls, "error");
        else if (out->decision != LSCGATE_NOOP) copy_out(out->cls, sizeof out->cls, lscgate::to_string(d.cls));
        copy_out(out->verdict, sizeof out->verdict, verdict_name(out->decision));
        copy_out(out->device, sizeof out->device, d.device);
        copy_out(out->reason, sizeof out->reason, d.reason);
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
        fail_closed(out, std::string("decision failed: ") + e.what());
    } catch (...) {
        fail_closed(out, "decision failed: unknown error");
    }
    return out->decision;
}

}  // extern "C"
