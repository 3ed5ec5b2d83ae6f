#pragma once

// The CAPF: its key and certificate (self-signed or under a third-party CA) and
// the LSCs it signs (capf-protocol.md §8).

#include "core/key_spec.h"
#include "core/openssl_handles.h"
#include "core/result.h"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace lscgate {

struct CapfCertificateRequest {
    KeySpec key{KeyType::Rsa, 2048, EcCurve::P256};
    int days = 3650;
    std::string subject;  // empty → a generated "CN=CAPF-xxxxxxxx,OU=Voice,O=lscgate"
};

// A self-signed CAPF certificate: CA:TRUE pathlen:0 (critical), keyUsage
// digitalSignature+keyCertSign+cRLSign (+keyEncipherment for RSA), SKI/AKI.
Result<X509Ptr> create_capf_certificate(EVP_PKEY* key, const CapfCertificateRequest& request);

// Why a certificate cannot serve as a CAPF (empty when it can).
std::string capf_certificate_problem(const X509* cert, const EVP_PKEY* key);

class CapfAuthority {
public:
    CapfAuthority(X509Ptr cert, EvpPkeyPtr key, std::vector<X509Ptr> chain)
        : cert_(std::move(cert)), key_(std::move(key)), chain_(std::move(chain)) {}

    static Result<CapfAuthority> load(const std::filesystem::path& cert, const std::filesystem::path& key,
                                      const std::filesystem::path& chain);

    // Signs an LSC for `device` over exactly the public key the phone returned.
    Result<X509Ptr> issue_lsc(const std::string& device, EVP_PKEY* phone_key, int days) const;
    // Same, from the phone's SubjectPublicKeyInfo as received (copied verbatim,
    // which spares OpenSSL 3 a re-encode and re-decode of the key per LSC).
    Result<X509Ptr> issue_lsc(const std::string& device, const X509_PUBKEY* phone_spki, int days) const;

    X509* certificate() const { return cert_.get(); }
    EVP_PKEY* key() const { return key_.get(); }
    const std::vector<X509Ptr>& chain() const { return chain_; }

private:
    Result<X509Ptr> build_lsc(const std::string& device, int days, const std::function<Status(X509*)>& set_key) const;
    X509Ptr cert_;
    EvpPkeyPtr key_;
    std::vector<X509Ptr> chain_;
};

}  // namespace lscgate
