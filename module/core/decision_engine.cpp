#include "core/decision_engine.h"

#include "core/device_name.h"
#include "core/trust_set.h"

namespace lscgate {

Result<std::string> device_from_user_name(std::string_view user_name, VpnNameForm form) {
    std::string cn(user_name);
    if (form == VpnNameForm::DistinguishedName || user_name.find('=') != std::string_view::npos) {
        if (!user_name.empty() && user_name.front() == '/') {
            cn = common_name_of_oneline(user_name);
        } else {
            // RFC 2253 style: the CN=… component, case-insensitive, comma separated.
            cn.clear();
            std::size_t pos = 0;
            while (pos <= user_name.size()) {
                auto end = user_name.find(',', pos);
                if (end == std::string_view::npos) end = user_name.size();
                auto part = user_name.substr(pos, end - pos);
                while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
                if (part.size() > 3 && (part[0] == 'C' || part[0] == 'c') && (part[1] == 'N' || part[1] == 'n') && part[2] == '=') {
                    cn = std::string(part.substr(3));
                    break;
                }
                pos = end + 1;
            }
        }
        if (cn.empty()) return fail("user name '" + std::string(user_name) + "' has no CN");
    }
    return normalize_device_name(cn);
}

Result<std::unique_ptr<DecisionEngine>> DecisionEngine::create(const EngineConfig& config) {
    auto registry = RegistryReader::open(config.database.string(), config.read_connections);
    if (!registry) return registry.error();
    auto capf = (*registry)->trusted_capf_certificates();
    if (!capf) return capf.error();
    std::vector<X509Ptr> owned = std::move(*capf);
    if (!config.capf_extra.empty()) {
        auto extra = load_certificates_from(config.capf_extra);
        if (!extra) return fail("capf_certificates: " + extra.message());
        for (auto& c : *extra) owned.push_back(std::move(c));
    }
    if (owned.empty()) return fail("no trusted CAPF certificate (the registry has none, and no extra file was given)");
    std::vector<X509*> capf_ptrs;
    for (auto& c : owned) capf_ptrs.push_back(c.get());
    std::vector<X509Ptr> mic_owned;
    std::vector<X509*> mic_ptrs;
    if (!config.mic_roots.empty()) {
        auto mic = load_certificates_from(config.mic_roots);
        if (!mic) return fail("mic_roots: " + mic.message());
        mic_owned = std::move(*mic);
        for (auto& c : mic_owned) mic_ptrs.push_back(c.get());
    }
    auto authorities = AuthoritySet::build(capf_ptrs, mic_ptrs);
    if (!authorities) return authorities.error();
    Policy policy = Policy::defaults();
    if (!config.policy_file.empty()) {
        auto loaded = Policy::load(config.policy_file);
        if (!loaded) return loaded.error();
        policy = std::move(*loaded);
    }
    return std::unique_ptr<DecisionEngine>(
        new DecisionEngine(std::move(*authorities), std::move(*registry), std::move(policy), config.vpn_user_name));
}

Decision DecisionEngine::finish(const Result<Classification>& c, UnixTime now) const {
    if (!c) {
        Decision d;
        d.verdict = Verdict::Reject;
        d.error = true;
        d.reason = "decision failed, rejecting: " + c.message();
        return d;
    }
    return policy_.decide(*c, now);
}

Decision DecisionEngine::decide_eap_tls(const CertificateAttributeText& client_cert, UnixTime now) const {
    auto presented = presented_from_attributes(client_cert);
    if (!presented) return finish(presented.error(), now);
    Classifier classifier(authorities_, *registry_);
    return finish(classifier.classify_verified_attributes(*presented, now), now);
}

Decision DecisionEngine::decide_vpn(std::string_view user_name, UnixTime now) const {
    auto device = device_from_user_name(user_name, vpn_form_);
    if (!device) return policy_.decide(Classification{CertClass::LscUnregistered, device.message(), {}, {}}, now);
    Classifier classifier(authorities_, *registry_);
    return finish(classifier.classify_device(*device, now), now);
}

Decision DecisionEngine::decide_certificate(const X509* cert, UnixTime now) const {
    Classifier classifier(authorities_, *registry_);
    return finish(classifier.classify_certificate(cert, now), now);
}

}  // namespace lscgate
