#include "decide/decision_engine.h"

#include "registry/device_name.h"
#include "decide/eap_tls_limits.h"
#include "pki/printable.h"
#include "decide/request_refusals.h"
#include "decide/seen_facts.h"
#include "registry/database_setting.h"
#include "pki/trust_set.h"

namespace lscgate {

Result<std::string> device_from_user_name(std::string_view user_name, VpnNameForm form) {
    std::string cn(user_name);
    if (form == VpnNameForm::DistinguishedName || user_name.find('=') != std::string_view::npos) {
        cn = common_name_of_distinguished_name(user_name);
        if (cn.empty()) return fail(ErrorKind::Input, "user name '" + escape_nonprintable(user_name) + "' has no CN");
    }
    return normalize_device_name(cn);
}

Result<std::unique_ptr<DecisionEngine>> DecisionEngine::create(const EngineConfig& config) {
    // Every error may quote a setting (a SQLite open of a conninfo names it): no
    // password of either reaches the FreeRADIUS log.
    auto r = create_unredacted(config);
    if (r) return r;
    return without_database_secrets(without_database_secrets(r.error(), config.database.string()),
                                    config.last_seen_database.string());
}

Result<std::unique_ptr<DecisionEngine>> DecisionEngine::create_unredacted(const EngineConfig& config) {
    // A conninfo libpq cannot parse would otherwise be opened as a SQLite path.
    if (auto s = validate_database_setting(config.database.string(), "database"); !s) return s.error();
    if (!config.last_seen_database.empty())
        if (auto s = validate_database_setting(config.last_seen_database.string(), "last_seen_database"); !s)
            return s.error();
    RegistryReaderOptions reader_options;
    reader_options.connections = config.read_connections;
    reader_options.outage_grace = config.registry_outage_grace;
    reader_options.change_watch = config.registry_change_watch;
    auto registry = RegistryReader::open(config.database.string(), reader_options, config.log);
    if (!registry) return registry.error();
    auto trust_loader = TrustLoader::create({}, config.capf_extra, config.mic_roots);
    if (!trust_loader) return trust_loader.error();
    Policy policy = Policy::defaults();
    if (!config.policy_file.empty()) {
        auto loaded = Policy::load(config.policy_file);
        if (!loaded) return loaded.error();
        policy = std::move(*loaded);
    }
    std::unique_ptr<LastSeenRecorder> recorder;
    auto sink = open_last_seen_sink(config.last_seen_database.string(), config.database.string());
    if (!sink) return fail("last_seen_database: " + sink.message());
    if (*sink) {
        LastSeenRecorder::Options options;
        options.node = seen_node_name(config.node_name);
        auto r = LastSeenRecorder::start(std::move(*sink), std::move(options));
        if (!r) return fail("last_seen_database: " + r.message());
        recorder = std::move(*r);
    }
    std::unique_ptr<DecisionEngine> engine(new DecisionEngine(std::move(*registry), std::move(policy), config,
                                                              std::move(*trust_loader), std::move(recorder)));
    // The first trust set is built here, so a registry without any CAPF is an
    // error at startup rather than a silent reject-everything.
    auto built = engine->refresh_trust();
    if (!built) return built.error();
    if (engine->refresh_interval_.count() > 0) engine->refresher_ = std::thread(&DecisionEngine::refresh_loop, engine.get());
    return engine;
}

DecisionEngine::DecisionEngine(std::unique_ptr<RegistryReader> registry, Policy policy, const EngineConfig& config,
                               TrustLoader trust_loader, std::unique_ptr<LastSeenRecorder> recorder)
    : registry_(std::move(registry)),
      policy_(std::move(policy)),
      vpn_form_(config.vpn_user_name),
      trust_loader_(std::move(trust_loader)),
      recorder_(std::move(recorder)),
      refresh_interval_(config.trust_refresh) {}

DecisionEngine::~DecisionEngine() {
    {
        std::lock_guard lock(stop_mutex_);
        stopping_ = true;
    }
    stop_cv_.notify_all();
    if (refresher_.joinable()) refresher_.join();
}

std::shared_ptr<const AuthoritySet> DecisionEngine::authorities() const {
    std::lock_guard lock(trust_mutex_);
    return authorities_;
}

Result<bool> DecisionEngine::refresh_trust() {
    std::string since;
    {
        std::lock_guard lock(trust_mutex_);
        if (authorities_) since = trust_signature_;
    }
    auto loaded = trust_loader_.load(*registry_, since);
    if (!loaded) return loaded.error();
    if (!*loaded) return false;
    const TrustMaterial& material = **loaded;
    // At creation an empty set is a configuration error; later (every CAPF
    // retired) it is what the registry says: trust no LSC rather than old ones.
    if (material.capf.empty() && !authorities())
        return fail("no trusted CAPF certificate (the registry has none, and no extra file was given)");
    auto built = AuthoritySet::build(material.capf_anchors(), material.mic_anchors());
    if (!built) return built.error();
    auto fresh = std::make_shared<const AuthoritySet>(std::move(*built));
    std::lock_guard lock(trust_mutex_);
    authorities_ = std::move(fresh);
    trust_signature_ = material.signature;
    return true;
}

void DecisionEngine::refresh_loop() {
    std::unique_lock lock(stop_mutex_);
    while (!stopping_) {
        stop_cv_.wait_for(lock, refresh_interval_, [&] { return stopping_; });
        if (stopping_) break;
        lock.unlock();
        // A failed refresh keeps the trust set in use (a corrupt row must not make
        // every phone fail); the error is kept for whoever asks. An exception
        // (bad_alloc) escaping a thread would std::terminate radiusd: it counts
        // as a failed refresh too.
        try {
            auto r = refresh_trust();
            std::lock_guard err_lock(trust_mutex_);
            last_refresh_error_ = r ? std::string() : r.message();
        } catch (...) {
            try {
                std::lock_guard err_lock(trust_mutex_);
                last_refresh_error_ = "trust refresh failed with an exception (out of memory?)";
            } catch (...) {
            }
        }
        lock.lock();
    }
}

Decision DecisionEngine::finish(const Result<Classification>& c, UnixTime now) const {
    if (!c) {
        Decision d;
        d.verdict = RadiusOutcome::Reject;
        d.error = true;
        d.reason = "decision failed, rejecting: " + c.message();
        return d;
    }
    Decision d = policy_.decide(*c, now);
    d.device = c->device;
    return d;
}

std::vector<std::string> DecisionEngine::load_warnings(UnixTime now) const {
    // The same trust material the decisions use: registry CAPFs, extra CAPFs, MIC roots.
    auto material = trust_loader_.load(*registry_);
    if (!material || !material->has_value()) {
        std::vector<std::string> none;
        none.push_back("cannot check the registry's CAPF certificates: " +
                       (material ? std::string("no trust material") : material.message()));
        return none;
    }
    const TrustMaterial& m = **material;
    std::vector<const X509*> mic, capf;
    for (const auto& c : m.mic_roots) mic.push_back(c.get());
    for (const auto& c : m.capf) capf.push_back(c.get());
    return eap_tls_policy_warnings(policy_, mic, capf, now);
}

RadiusAnswer DecisionEngine::decide_request(const RadiusRequest& request, UnixTime now) const {
    RadiusAnswer answer = route_request(request, now);
    const Decision& d = answer.decision;
    if (answer.outcome != RadiusOutcome::Noop) {
        answer.outcome = d.error ? RadiusOutcome::Error : d.verdict;
        answer.subject_label = subject_label(request.client_cert, d.device);
    }
    const bool plain_accept = answer.outcome == RadiusOutcome::Accept && d.cls == CertClass::LscValid;
    if (request.log_plain_accepts || !plain_accept) answer.log_line = radius_log_line(answer, request.nas);
    // The check-eap-tls decision and the post-auth one are the same
    // authentication: record it once, from authorize. Only under a name the
    // certificate (or the registry) really carries: a CN-less certificate is not
    // recorded (FreeRADIUS would have offered its CA's CN).
    if (recorder_ && answer.outcome != RadiusOutcome::Noop && request.hook == RadiusHook::Authorize && !d.device.empty())
        recorder_->record(seen_event(request, d, now));
    return answer;
}

RadiusAnswer DecisionEngine::route_request(const RadiusRequest& request, UnixTime now) const {
    RadiusAnswer answer;
    answer.outcome = RadiusOutcome::Reject;
    if (auto refusal = request_refusal(request)) {
        answer.decision = std::move(*refusal);  // no device: nothing is recorded
        return answer;
    }
    const bool has_cert = !request.client_cert.serial.empty() || !request.client_cert.issuer.empty();
    if (has_cert) {
        answer.decision = decide_eap_tls(request.client_cert, now);
        if (answer.decision.device.empty()) {
            const std::string cn = common_name_from_attributes(request.client_cert.subject, request.client_cert.common_name);
            if (!cn.empty()) answer.decision.device = device_from_common_name(cn);
        }
        return answer;
    }
    if (request.hook == RadiusHook::PostAuth || request.eap_in_progress || request.user_name.empty()) {
        answer.outcome = RadiusOutcome::Noop;
        answer.decision.reason = request.hook == RadiusHook::PostAuth ? "no client certificate attributes in post-auth"
                                 : request.eap_in_progress ? "EAP conversation in progress, no client certificate yet"
                                                           : "neither a client certificate nor a User-Name";
        return answer;
    }
    auto device = device_from_user_name(request.user_name, vpn_form_);
    if (!device) {
        // Not a device name at all: refused whatever the policy says, and not
        // recorded (the last-seen table is not for arbitrary strings).
        answer.decision.cls = CertClass::LscUnregistered;
        answer.decision.reason = "User-Name is not a device name: " + device.message();
        return answer;
    }
    answer.decision = decide_device(*device, now);
    answer.decision.device = *device;
    // An ASA has no use for an enrolment VLAN: "restrict" would be full access.
    if (answer.decision.verdict == RadiusOutcome::Restrict) {
        answer.decision.verdict = RadiusOutcome::Reject;
        answer.decision.reply.clear();
        answer.decision.reason += " (policy says restrict, which the VPN path cannot honour: rejected)";
    }
    return answer;
}

Decision DecisionEngine::decide_eap_tls(const CertificateAttributeText& client_cert, UnixTime now) const {
    auto presented = presented_from_attributes(client_cert);
    if (!presented) return finish(presented.error(), now);
    const auto trust = authorities();
    Classifier classifier(*trust, *registry_);
    return finish(classifier.classify_verified_attributes(*presented, now), now);
}

Decision DecisionEngine::decide_vpn(std::string_view user_name, UnixTime now) const {
    auto device = device_from_user_name(user_name, vpn_form_);
    if (!device) return policy_.decide(Classification{CertClass::LscUnregistered, device.message(), {}, {}}, now);
    return decide_device(*device, now);
}

Decision DecisionEngine::decide_device(const std::string& device, UnixTime now) const {
    const auto trust = authorities();
    Classifier classifier(*trust, *registry_);
    Decision d = finish(classifier.classify_device(device, now), now);
    // By name, nothing proves which certificate the phone holds: an unconfirmed LSC
    // may never have reached it (and the one it has may be revoked). Accepted only
    // over EAP-TLS, where the handshake proves possession; here, fail closed.
    if (d.cls == CertClass::LscUnconfirmed && d.verdict != RadiusOutcome::Reject) {
        d.verdict = RadiusOutcome::Reject;
        d.reply.clear();
        d.reason += " (lsc-unconfirmed is accepted only over EAP-TLS, where the certificate itself is presented)";
    }
    return d;
}

Decision DecisionEngine::decide_certificate(const X509* cert, UnixTime now) const {
    const auto trust = authorities();
    Classifier classifier(*trust, *registry_);
    return finish(classifier.classify_certificate(cert, now), now);
}

}  // namespace lscgate
