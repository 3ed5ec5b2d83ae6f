#include "pki/authority_set.h"

#include "pki/bytes.h"
#include "pki/certificate.h"

#include <openssl/err.h>

namespace lscgate {

Result<AuthoritySet> AuthoritySet::build(const std::vector<X509*>& capf, const std::vector<X509*>& manufacturing_roots) {
    AuthoritySet set;
    const auto add = [&](X509* cert, AuthorityRole role) -> Status {
        auto facts = describe_certificate(cert);
        if (!facts) return facts.error();
        if (!facts->is_ca) return fail("trusted issuer " + facts->subject + " is not a CA certificate");
        TrustedAuthority a;
        a.role = role;
        a.cert = share(cert);
        a.subject_oneline = facts->subject_oneline;
        if (const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert))
            a.key_id = to_hex(ByteView(ASN1_STRING_get0_data(ski), static_cast<std::size_t>(ASN1_STRING_length(ski))));
        a.label = facts->subject;
        set.authorities_.push_back(std::move(a));
        return {};
    };
    for (X509* c : capf)
        if (auto s = add(c, AuthorityRole::Capf); !s) return s.error();
    for (X509* c : manufacturing_roots)
        if (auto s = add(c, AuthorityRole::ManufacturingRoot); !s) return s.error();
    return set;
}

const TrustedAuthority* AuthoritySet::issuer_by_name_and_key(const PresentedCertificate& cert) const {
    for (const auto& a : authorities_) {
        if (a.subject_oneline != cert.issuer_oneline) continue;
        if (a.role == AuthorityRole::Capf) {
            // LSCs always carry an AKI (lscgate writes one): a certificate without it,
            // or a CAPF without an SKI, is never matched by name alone.
            if (!cert.authority_key_id.empty() && a.key_id == cert.authority_key_id) return &a;
            continue;
        }
        // Old MICs may lack an AKI: then the manufacturing root's DN must do.
        if (cert.authority_key_id.empty() || a.key_id.empty() || a.key_id == cert.authority_key_id) return &a;
    }
    return nullptr;
}

const TrustedAuthority* AuthoritySet::issuer_by_signature(const X509* cert) const {
    const X509_NAME* issuer = X509_get_issuer_name(cert);
    for (const auto& a : authorities_) {
        if (X509_NAME_cmp(X509_get_subject_name(a.cert.get()), issuer) != 0) continue;
        if (X509_verify(const_cast<X509*>(cert), X509_get0_pubkey(a.cert.get())) == 1) return &a;
        ERR_clear_error();
    }
    return nullptr;
}

const TrustedAuthority* AuthoritySet::capf_named(const std::string& issuer_oneline) const {
    for (const auto& a : authorities_)
        if (a.role == AuthorityRole::Capf && a.subject_oneline == issuer_oneline) return &a;
    return nullptr;
}

}  // namespace lscgate
