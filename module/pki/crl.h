#pragma once

// Certificate revocation lists (RFC 5280 §5) signed by the CAPF: the list of
// LSCs a VPN head-end (ASA `revocation-check crl`) or FreeRADIUS (`check_crl`)
// must refuse although they chain to the CAPF. Building, encoding and reading
// one; what goes into it and when it is renewed is capf/crl_publisher.h.

#include "pki/certificate.h"
#include "pki/openssl_handles.h"
#include "pki/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lscgate {

/// CRLReason (RFC 5280 §5.3.1); 7 is unused, 6 (certificateHold) never issued here.
enum class CrlReason : int {
    Unspecified = 0,
    KeyCompromise = 1,
    CaCompromise = 2,
    AffiliationChanged = 3,
    Superseded = 4,
    CessationOfOperation = 5,
    PrivilegeWithdrawn = 9,
};

/// The reason for a name `lscgate revoke --reason` accepts ("key-compromise",
/// ...); Unspecified for any other text (older rows hold free text).
CrlReason crl_reason_from_name(std::string_view name);

/// One revoked certificate: serial (upper-case hex, as CertificateFacts has it),
/// revocationDate (Unix seconds), reason.
struct CrlEntry {
    std::string serial_hex;
    UnixTime revoked_at = 0;
    CrlReason reason = CrlReason::Unspecified;
    bool operator==(const CrlEntry&) const = default;
};

/// What a CRL says (read back from its DER).
struct CrlFacts {
    std::int64_t number = 0;  ///< cRLNumber (RFC 5280 §5.2.3)
    UnixTime this_update = 0;
    UnixTime next_update = 0;
    std::vector<CrlEntry> entries;  ///< in the CRL's order
};

struct CrlRequest {
    std::int64_t number = 1;
    UnixTime this_update = 0;
    UnixTime next_update = 0;
    std::vector<CrlEntry> entries;
};

/// A v2 CRL issued by `issuer` (its subject becomes the CRL issuer) and signed
/// with `key` (SHA-256), with the extensions cRLNumber and authorityKeyIdentifier
/// (keyid of the issuer's SKI, §5.2.1), and per entry a reasonCode, left out for
/// Unspecified as §5.3.1 asks. Errors: a serial that is not hex, next_update
/// not after this_update, OpenSSL's.
Result<X509CrlPtr> build_crl(const X509* issuer, EVP_PKEY* key, const CrlRequest& request);

/// DER (for HTTP, RFC 5280 §4.2.1.13) and PEM ("X509 CRL") encodings.
Result<std::string> crl_der(const X509_CRL* crl);
Result<std::string> crl_pem(const X509_CRL* crl);

/// Parses a CRL in DER or PEM. Errors (Input): neither.
Result<X509CrlPtr> parse_crl(std::string_view bytes);

/// The number, times and entries of `crl`. Errors (Input): no cRLNumber, no nextUpdate.
Result<CrlFacts> describe_crl(const X509_CRL* crl);

/// True when `crl` carries a valid signature by `issuer`'s key and names it as issuer.
bool crl_signed_by(const X509_CRL* crl, const X509* issuer);

/// Why `capf` cannot sign a CRL that verifiers accept ("" when it can): a
/// keyUsage extension without cRLSign (RFC 5280 §4.2.1.3: "the cRLSign bit is
/// asserted for verifying signatures on CRLs"; OpenSSL refuses such a CRL with
/// X509_V_ERR_KEYUSAGE_NO_CRL_SIGN, the ASA refuses it too), or no
/// subjectKeyIdentifier (the CRL's authorityKeyIdentifier is made from it,
/// §5.2.1). A certificate without keyUsage may sign CRLs (§4.2.1.3).
std::string crl_signer_problem(const X509* capf);

/// Whether `capf` issued `cert` (RFC 5280 §4.2.1.1, §6.1.3): `cert`'s issuer
/// name equals `capf`'s subject (DER-canonical comparison, not the RFC 2253
/// string) and, when both carry them, `cert`'s authorityKeyIdentifier keyid
/// equals `capf`'s subjectKeyIdentifier; without them, `cert`'s signature
/// verifies with `capf`'s public key. Two CAPF certificates with one subject
/// (a re-key under the same name) are told apart by their keys.
bool certificate_issued_by(const X509* cert, const X509* capf);

}  // namespace lscgate
