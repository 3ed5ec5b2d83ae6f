#include "pki/key_strength.h"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

namespace lscgate {
namespace {

constexpr int kMinRsaBits = 2048;
constexpr int kMinCapfEcBits = 256;
constexpr int kMinSignatureSecurityBits = 112;  // security level 2

// "RSA-1024", "EC-224", for messages.
std::string key_label(const EVP_PKEY* key) {
    const int id = EVP_PKEY_get_base_id(key);
    const char* kind = id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS ? "RSA" : id == EVP_PKEY_EC ? "EC" : OBJ_nid2sn(id);
    return std::string(kind) + "-" + std::to_string(EVP_PKEY_get_bits(key));
}

bool weak_capf_key(const EVP_PKEY* key) {
    const int id = EVP_PKEY_get_base_id(key);
    const int bits = EVP_PKEY_get_bits(key);
    if (id == EVP_PKEY_EC) return bits < kMinCapfEcBits;
    if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS || id == EVP_PKEY_DSA) return bits < kMinRsaBits;
    return EVP_PKEY_get_security_bits(key) < kMinSignatureSecurityBits;
}

}  // namespace

std::string weak_lsc_key_reason(const KeySpec& spec) {
    if (spec.type != KeyType::Rsa || spec.rsa_bits >= kMinRsaBits) return {};
    return spec.to_string() +
           " LSCs are refused by FreeRADIUS's EAP-TLS on Debian 12 (OpenSSL security level 2: \"EE certificate key "
           "too weak\"); schedule --key rsa:2048 or ec:p256, or, for phones that can only do " +
           spec.to_string() +
           ", lower the eap module's level (tls { cipher_list = \"DEFAULT@SECLEVEL=1\" }) and pass --allow-weak-key";
}

std::string weak_capf_key_spec_reason(const KeySpec& spec) {
    if (spec.type != KeyType::Rsa || spec.rsa_bits >= kMinRsaBits) return {};
    return "a CAPF key of " + spec.to_string() +
           " is below OpenSSL security level 2 (Debian 12's default): 'lscgate serve' cannot present it and "
           "FreeRADIUS refuses every LSC it signs (\"CA certificate key too weak\"); use rsa:2048 or stronger";
}

std::string weak_capf_certificate_reason(const X509* cert) {
    auto* c = const_cast<X509*>(cert);  // X509_get_signature_info() caches, hence non-const
    std::string problems;
    if (const EVP_PKEY* key = X509_get0_pubkey(cert); key != nullptr && weak_capf_key(key))
        problems = "its " + key_label(key) +
                   " key is below OpenSSL security level 2 (Debian 12's default; RSA needs 2048 bits, EC 256): "
                   "'lscgate serve' cannot present it (\"ee key too small\") and FreeRADIUS refuses every LSC it "
                   "signs (\"CA certificate key too weak\")";
    int md_nid = NID_undef;
    int security_bits = 0;
    if (X509_get_signature_info(c, &md_nid, nullptr, &security_bits, nullptr) == 1 &&
        security_bits < kMinSignatureSecurityBits) {
        const char* md = md_nid == NID_undef ? "an unknown digest" : OBJ_nid2ln(md_nid);  // "sha1"
        problems += std::string(problems.empty() ? "" : "; ") + "it is signed with " + md +
                    " (SHA-1 or weaker), which OpenSSL refuses from security level 1 on wherever it is not the "
                    "trust anchor itself (\"CA signature digest algorithm too weak\")";
    }
    return problems;
}

}  // namespace lscgate
