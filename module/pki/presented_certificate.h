#pragma once

// The client certificate of one authentication, normalised: either built from a
// full X509 (tests, tools) or from the text attributes FreeRADIUS exposes after
// its TLS layer verified the chain (TLS-Client-Cert-Serial, -Issuer, ...).

#include "pki/certificate.h"
#include "pki/distinguished_name.h"
#include "pki/result.h"

#include <optional>
#include <string>
#include <string_view>

namespace lscgate {

struct PresentedCertificate {
    std::string serial_hex;        // upper-case hex, no leading zero bytes
    std::string issuer_oneline;    // "/O=Example/OU=Voice/CN=CAPF-1"
    std::string subject_oneline;
    std::string common_name;
    std::optional<UnixTime> not_before;
    std::optional<UnixTime> not_after;
    std::string authority_key_id;  // upper-case hex, no separators; "" when absent
    bool is_ca = false;
    std::string sha256;            // only when the full certificate is known
};

// The attributes as FreeRADIUS prints them; empty views for absent ones.
struct CertificateAttributeText {
    std::string_view serial;             // TLS-Client-Cert-Serial, e.g. "2f8b82ca..."
    std::string_view issuer;             // TLS-Client-Cert-Issuer (oneline DN)
    std::string_view subject;            // TLS-Client-Cert-Subject
    std::string_view common_name;        // TLS-Client-Cert-Common-Name
    std::string_view valid_since;        // TLS-Client-Cert-Valid-Since, "361125182044Z"
    std::string_view expiration;         // TLS-Client-Cert-Expiration
    std::string_view authority_key_id;   // TLS-Client-Cert-X509v3-Authority-Key-Identifier
    std::string_view basic_constraints;  // TLS-Client-Cert-X509v3-Basic-Constraints, "CA:FALSE"
};

Result<PresentedCertificate> presented_from_attributes(const CertificateAttributeText& text);
Result<PresentedCertificate> presented_from_x509(const X509* cert);

// Helpers, exposed for tests.
std::string normalize_serial(std::string_view hex);     // "00:0f:A1" → "0FA1"... leading zero bytes stripped
std::string normalize_key_id(std::string_view text);    // "keyid:17:C5:..." → "17C5..."
Result<UnixTime> parse_asn1_time_text(std::string_view text);  // UTCTime or GeneralizedTime, 'Z' only
// The certificate's CN from TLS-Client-Cert-Subject and -Common-Name: "" when the
// subject has no CN, whatever -Common-Name says (FreeRADIUS 3.2.1 puts the issuing
// CA's CN there for a leaf without one: src/main/tls.c, cbtls_verify, one buffer for
// every chain depth). The attribute is used only when the subject carries it.
std::string common_name_from_attributes(std::string_view subject, std::string_view common_name);

}  // namespace lscgate
