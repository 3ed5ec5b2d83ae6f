#pragma once

// The CAPF: its key and certificate (self-signed or under a third-party CA) and
// the LSCs it signs (module/capf/PROTOCOL.md §8).

#include "pki/certificate.h"
#include "pki/key_spec.h"
#include "pki/openssl_handles.h"
#include "pki/result.h"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace lscgate {

/// How many seconds notBefore of every certificate lscgate issues (LSCs, the
/// self-signed CAPF of `lscgate init`) lies before the moment of issuance, so
/// that a verifier whose clock lags ours already accepts it: FreeRADIUS running
/// 90 s behind refused a fresh LSC with "certificate is not yet valid" (OpenSSL
/// X509_V_ERR_CERT_NOT_YET_VALID, 9) when notBefore was the issuing second.
/// Common CA practice is 1 to 5 minutes; `[capf] backdate_seconds` sets it.
inline constexpr int kDefaultBackdateSeconds = 300;
inline constexpr int kMaxBackdateSeconds = 3600;

struct CapfCertificateRequest {
    KeySpec key{KeyType::Rsa, 2048, EcCurve::P256};
    int days = 3650;
    std::string subject;  // empty → a generated "CN=CAPF-xxxxxxxx,OU=Voice,O=lscgate"
    std::optional<UnixTime> issued_at{};  // empty → now
    int backdate_seconds = kDefaultBackdateSeconds;  // notBefore = issued_at − this
};

// A self-signed CAPF certificate: CA:TRUE pathlen:0 (critical), keyUsage
// digitalSignature+keyCertSign+cRLSign (+keyEncipherment for RSA), SKI/AKI;
// valid from issued_at − backdate_seconds to issued_at + days.
Result<X509Ptr> create_capf_certificate(EVP_PKEY* key, const CapfCertificateRequest& request);

// Why a certificate cannot serve as a CAPF (empty when it can).
std::string capf_certificate_problem(const X509* cert, const EVP_PKEY* key);

class CapfAuthority {
public:
    CapfAuthority(X509Ptr cert, EvpPkeyPtr key, std::vector<X509Ptr> chain)
        : cert_(std::move(cert)), key_(std::move(key)), chain_(std::move(chain)) {}

    static Result<CapfAuthority> load(const std::filesystem::path& cert, const std::filesystem::path& key,
                                      const std::filesystem::path& chain);

    // Signs an LSC for `device` over exactly the public key the phone returned,
    // valid from issued_at (empty: now) − backdate_seconds() to issued_at + days.
    Result<X509Ptr> issue_lsc(const std::string& device, EVP_PKEY* phone_key, int days,
                              std::optional<UnixTime> issued_at = std::nullopt) const;
    // Same, from the phone's SubjectPublicKeyInfo as received (copied verbatim,
    // which spares OpenSSL 3 a re-encode and re-decode of the key per LSC). The
    // key is never decoded: X509_get0_pubkey() of the LSC is NULL (and leaves an
    // error on the queue); certificate_der(), describe_certificate() and
    // everything else the registry records work as for a parsed certificate.
    Result<X509Ptr> issue_lsc(const std::string& device, const X509_PUBKEY* phone_spki, int days,
                              std::optional<UnixTime> issued_at = std::nullopt) const;

    // notBefore margin of the LSCs this authority signs (kDefaultBackdateSeconds
    // unless set; 0 to kMaxBackdateSeconds).
    int backdate_seconds() const { return backdate_seconds_; }
    Status set_backdate_seconds(int seconds);
    /// Puts a CRL Distribution Point (RFC 5280 §4.2.1.13, one fullName URI) with
    /// `url` into every LSC signed from now on; "" (the default) leaves it out.
    /// Errors (Config): not an http:// URL of printable ASCII without spaces or
    /// commas, or longer than 1024 bytes (ASA and FreeRADIUS fetch CRLs over HTTP).
    Status set_crl_url(const std::string& url);
    const std::string& crl_url() const { return crl_url_; }

    X509* certificate() const { return cert_.get(); }
    EVP_PKEY* key() const { return key_.get(); }
    const std::vector<X509Ptr>& chain() const { return chain_; }

private:
    Result<X509Ptr> build_lsc(const std::string& device, int days, std::optional<UnixTime> issued_at,
                              const std::function<Status(X509*)>& set_key) const;
    X509Ptr cert_;
    EvpPkeyPtr key_;
    std::vector<X509Ptr> chain_;
    int backdate_seconds_ = kDefaultBackdateSeconds;
    std::string crl_url_;
};

/// Why `url` cannot be a CRL Distribution Point (empty when it can); see set_crl_url.
std::string crl_url_problem(const std::string& url);

}  // namespace lscgate
