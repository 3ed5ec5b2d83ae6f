#pragma once

// Turns the facts of one authentication into a certificate class and a reason
// (issue 3 §3). Pure decision logic over the trusted issuers and the registry;
// nothing here knows about FreeRADIUS.

#include "pki/authority_set.h"
#include "decide/cert_class.h"
#include "pki/presented_certificate.h"
#include "registry/registry_reader.h"

#include <string>

namespace lscgate {

struct Classification {
    CertClass cls = CertClass::UnknownIssuer;
    std::string reason;
    std::string device;                 // the registry's device for LSC classes
    std::optional<UnixTime> not_after;  // of the certificate, for grace periods
};

class Classifier {
public:
    Classifier(const AuthoritySet& authorities, RegistryReader& registry)
        : authorities_(authorities), registry_(registry) {}

    // EAP-TLS from FreeRADIUS attributes: the TLS layer has verified the chain
    // against ca_file; the issuer is identified by DN and key id.
    Result<Classification> classify_verified_attributes(const PresentedCertificate& cert, UnixTime now) const;
    // A full certificate: the issuer is identified by one signature check.
    Result<Classification> classify_certificate(const X509* cert, UnixTime now) const;
    // AnyConnect via an ASA: only the device name (from User-Name) is known.
    Result<Classification> classify_device(const std::string& device, UnixTime now) const;

private:
    Result<Classification> classify(const PresentedCertificate& cert, const TrustedAuthority* issuer, UnixTime now) const;
    Result<Classification> classify_registered(const PresentedCertificate& cert, const TrustedAuthority& capf,
                                               UnixTime now) const;

    const AuthoritySet& authorities_;
    RegistryReader& registry_;
};

}  // namespace lscgate
