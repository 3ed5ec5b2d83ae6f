#pragma once

// The issuers a RADIUS decision knows: our CAPF certificates (current, and
// previous ones still trusted during a rotation) and the manufacturing roots
// that sign MICs. An issuer is identified by its subject DN *and* key id (or,
// with the full certificate, by a signature check), never by its name alone.

#include "pki/openssl_handles.h"
#include "pki/presented_certificate.h"
#include "pki/result.h"

#include <string>
#include <vector>

namespace lscgate {

enum class AuthorityRole { Capf, ManufacturingRoot };

struct TrustedAuthority {
    AuthorityRole role = AuthorityRole::Capf;
    X509Ptr cert;
    std::string subject_oneline;
    std::string key_id;  // SKI, upper-case hex
    std::string label;   // subject RFC 2253, for log lines
};

class AuthoritySet {
public:
    static Result<AuthoritySet> build(const std::vector<X509*>& capf, const std::vector<X509*>& manufacturing_roots);

    // The trusted issuer named by the certificate's issuer DN whose key id matches
    // its AKI. Used when the TLS layer has already verified the signature chain.
    const TrustedAuthority* issuer_by_name_and_key(const PresentedCertificate& cert) const;
    // The trusted issuer whose key verifies the certificate's signature (one check
    // per candidate with the right name; normally exactly one).
    const TrustedAuthority* issuer_by_signature(const X509* cert) const;
    // A trusted CAPF whose subject equals `issuer_oneline` (whatever its key).
    const TrustedAuthority* capf_named(const std::string& issuer_oneline) const;

    const std::vector<TrustedAuthority>& all() const { return authorities_; }

private:
    std::vector<TrustedAuthority> authorities_;
};

}  // namespace lscgate
