#include "pki/trust_loader.h"

#include "pki/certificate.h"
#include "pki/trust_set.h"

#include <set>

namespace lscgate {

std::vector<X509*> TrustMaterial::capf_anchors() const {
    std::vector<X509*> out;
    for (const auto& c : capf) out.push_back(c.get());
    return out;
}

std::vector<X509*> TrustMaterial::mic_anchors() const {
    std::vector<X509*> out;
    for (const auto& c : mic_roots) out.push_back(c.get());
    return out;
}

Result<std::string> TrustMaterial::pem_bundle() const {
    std::string out;
    std::set<std::string> seen;
    for (const auto* list : {&capf, &mic_roots}) {
        for (const auto& cert : *list) {
            auto facts = describe_certificate(cert.get());
            if (!facts) return facts.error();
            if (!seen.insert(facts->sha256).second) continue;
            out += certificate_pem(cert.get());
        }
    }
    return out;
}

Result<TrustLoader> TrustLoader::create(std::vector<X509Ptr> extra_capf, const std::filesystem::path& extra_capf_file,
                                        const std::filesystem::path& mic_roots_file) {
    TrustLoader loader;
    loader.extra_capf_ = std::move(extra_capf);
    if (!extra_capf_file.empty()) {
        auto loaded = load_certificates_from(extra_capf_file);
        if (!loaded) return fail(ErrorKind::Config, "CAPF certificates " + extra_capf_file.string() + ": " + loaded.message());
        for (auto& c : *loaded) loader.extra_capf_.push_back(std::move(c));
    }
    if (!mic_roots_file.empty()) {
        auto loaded = load_certificates_from(mic_roots_file);
        if (!loaded) return fail(ErrorKind::Config, "MIC roots " + mic_roots_file.string() + ": " + loaded.message());
        loader.mic_roots_ = std::move(*loaded);
    }
    return loader;
}

Result<std::optional<TrustMaterial>> TrustLoader::load(CapfCertificateSource& registry, const std::string& unchanged_since) const {
    auto signature = registry.capf_signature();
    if (!signature) return signature.error();
    if (!unchanged_since.empty() && *signature == unchanged_since) return std::optional<TrustMaterial>{};
    auto from_registry = registry.trusted_capf_certificates();
    if (!from_registry) return from_registry.error();
    TrustMaterial m;
    m.signature = std::move(*signature);
    m.registry_capf = from_registry->size();
    m.capf = std::move(*from_registry);
    for (const auto& c : extra_capf_) m.capf.push_back(share(c.get()));
    for (const auto& c : mic_roots_) m.mic_roots.push_back(share(c.get()));
    return std::optional<TrustMaterial>{std::move(m)};
}

}  // namespace lscgate
