#include "pki/issuer.h"

#include "pki/bytes.h"
#include "pki/certificate.h"
#include "pki/distinguished_name.h"
#include "pki/keys.h"
#include "pki/openssl_error.h"
#include "pki/spki.h"

#include <openssl/rand.h>

#include <ctime>

namespace lscgate {
namespace {

constexpr long kSecondsPerDay = 86400;

Result<Asn1IntegerPtr> random_serial() {
    unsigned char bytes[16];
    do {
        if (RAND_bytes(bytes, sizeof bytes) != 1) return fail(openssl_error("no randomness for serial"));
    } while (bytes[0] == 0);  // keep the full 128 bits so serials have one length
    BignumPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
    Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    if (!serial) return fail(openssl_error("cannot encode serial"));
    return serial;
}

Status add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
    X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
    if (!ext) return fail(openssl_error(std::string("cannot build extension ") + OBJ_nid2sn(nid) + "=" + value));
    if (X509_add_ext(cert, ext.get(), -1) != 1) return fail(openssl_error("cannot add extension"));
    return {};
}

// notBefore = issued_at − backdate (see kDefaultBackdateSeconds), notAfter = issued_at + days.
Status set_validity(X509* cert, std::optional<UnixTime> issued_at, int backdate_seconds, long days) {
    if (backdate_seconds < 0 || backdate_seconds > kMaxBackdateSeconds)
        return fail(ErrorKind::Config, "notBefore backdate must be 0 to " + std::to_string(kMaxBackdateSeconds) + " seconds");
    const UnixTime at = issued_at.value_or(static_cast<UnixTime>(std::time(nullptr)));
    if (ASN1_TIME_set(X509_getm_notBefore(cert), static_cast<time_t>(at - backdate_seconds)) == nullptr ||
        ASN1_TIME_set(X509_getm_notAfter(cert), static_cast<time_t>(at + days * kSecondsPerDay)) == nullptr)
        return fail(openssl_error("cannot set validity"));
    return {};
}

std::string default_capf_subject() {
    unsigned char r[4];
    RAND_bytes(r, sizeof r);
    return "CN=CAPF-" + to_hex(ByteView(r, sizeof r)) + ",OU=Voice,O=lscgate";
}

}  // namespace

Result<X509Ptr> create_capf_certificate(EVP_PKEY* key, const CapfCertificateRequest& request) {
    if (request.days < 1 || request.days > 10950) return fail("CAPF validity must be 1 to 10950 days");
    auto name = parse_distinguished_name(request.subject.empty() ? default_capf_subject() : request.subject);
    if (!name) return name.error();
    X509Ptr cert(X509_new());
    auto serial = random_serial();
    if (!serial) return serial.error();
    X509_set_version(cert.get(), X509_VERSION_3);
    X509_set_serialNumber(cert.get(), serial->get());
    X509_set_subject_name(cert.get(), name->get());
    X509_set_issuer_name(cert.get(), name->get());
    X509_set_pubkey(cert.get(), key);
    if (auto s = set_validity(cert.get(), request.issued_at, request.backdate_seconds, request.days); !s) return s.error();

    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    const bool rsa = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA;
    // keyEncipherment only means something for RSA; legacy phones use RSA key exchange.
    const char* usage = rsa ? "critical,digitalSignature,keyEncipherment,keyCertSign,cRLSign"
                            : "critical,digitalSignature,keyCertSign,cRLSign";
    for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                              std::pair{NID_key_usage, usage},
                              std::pair{NID_ext_key_usage, "serverAuth,clientAuth,ipsecEndSystem"},
                              std::pair{NID_subject_key_identifier, "hash"},
                              std::pair{NID_authority_key_identifier, "keyid:always"}}) {
        if (auto s = add_extension(cert.get(), &ctx, nid, value); !s) return s.error();
    }
    if (X509_sign(cert.get(), key, EVP_sha256()) == 0) return fail(openssl_error("cannot sign CAPF certificate"));
    return cert;
}

std::string capf_certificate_problem(const X509* cert, const EVP_PKEY* key) {
    if (!same_public_key(X509_get0_pubkey(cert), key)) return "the private key does not belong to the certificate";
    auto* c = const_cast<X509*>(cert);
    if (X509_check_ca(c) == 0) return "the certificate is not a CA (basicConstraints CA:TRUE is required)";
    const uint32_t ku = X509_get_key_usage(c);
    if ((X509_get_extension_flags(c) & EXFLAG_KUSAGE) != 0 && (ku & KU_KEY_CERT_SIGN) == 0)
        return "keyUsage lacks keyCertSign";
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) return "the certificate has expired";
    return {};
}

Result<CapfAuthority> CapfAuthority::load(const std::filesystem::path& cert_path, const std::filesystem::path& key_path,
                                          const std::filesystem::path& chain_path) {
    auto cert = load_certificate(cert_path);
    if (!cert) return cert.error();
    auto key = load_private_key(key_path);
    if (!key) return key.error();
    if (auto problem = capf_certificate_problem(cert->get(), key->get()); !problem.empty())
        return fail("CAPF certificate " + cert_path.string() + ": " + problem);
    std::vector<X509Ptr> chain;
    if (!chain_path.empty() && std::filesystem::exists(chain_path) && std::filesystem::file_size(chain_path) > 0) {
        auto bundle = load_certificate_bundle(chain_path);
        if (!bundle) return bundle.error();
        chain = std::move(*bundle);
    }
    return CapfAuthority(std::move(*cert), std::move(*key), std::move(chain));
}

Status CapfAuthority::set_backdate_seconds(int seconds) {
    if (seconds < 0 || seconds > kMaxBackdateSeconds)
        return fail(ErrorKind::Config, "notBefore backdate must be 0 to " + std::to_string(kMaxBackdateSeconds) + " seconds");
    backdate_seconds_ = seconds;
    return {};
}

Result<X509Ptr> CapfAuthority::issue_lsc(const std::string& device, EVP_PKEY* phone_key, int days,
                                         std::optional<UnixTime> issued_at) const {
    return build_lsc(device, days, issued_at, [phone_key](X509* cert) -> Status {
        if (X509_set_pubkey(cert, phone_key) != 1) return fail(openssl_error("cannot set LSC public key"));
        return {};
    });
}

Result<X509Ptr> CapfAuthority::issue_lsc(const std::string& device, const X509_PUBKEY* phone_spki, int days,
                                         std::optional<UnixTime> issued_at) const {
    auto built = build_lsc(device, days, issued_at, [phone_spki](X509* cert) -> Status {
        ASN1_OBJECT* alg_oid = nullptr;
        const unsigned char* bits = nullptr;
        int bits_len = 0;
        X509_ALGOR* alg = nullptr;
        if (X509_PUBKEY_get0_param(&alg_oid, &bits, &bits_len, &alg, phone_spki) != 1 || alg == nullptr)
            return fail("unreadable SubjectPublicKeyInfo");
        return set_subject_public_key_info(X509_get_X509_PUBKEY(cert), alg, bits, bits_len);
    });
    // Not parsed again to get a decoded key: that decode (OSSL_DECODER) was a
    // sizeable share of serve's CPU per enrolment, and describe_certificate reads
    // the key's type and size from its encoding.
    return built;
}

Result<X509Ptr> CapfAuthority::build_lsc(const std::string& device, int days, std::optional<UnixTime> issued_at,
                                         const std::function<Status(X509*)>& set_key) const {
    if (days < 1 || days > 3650) return fail("LSC validity must be 1 to 3650 days");
    X509Ptr cert(X509_new());
    auto serial = random_serial();
    if (!serial) return serial.error();
    X509_set_version(cert.get(), X509_VERSION_3);
    X509_set_serialNumber(cert.get(), serial->get());

    // Subject: the issuer's C/ST/L/O/OU, then CN=<device>, so an LSC reads
    // "CN=SEP…,OU=Voice,O=Example" like the site's CAPF.
    X509NamePtr subject(X509_NAME_new());
    const X509_NAME* ca_name = X509_get_subject_name(cert_.get());
    for (int i = 0; i < X509_NAME_entry_count(ca_name); ++i) {
        const X509_NAME_ENTRY* e = X509_NAME_get_entry(ca_name, i);
        const int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
        if (nid == NID_organizationName || nid == NID_organizationalUnitName || nid == NID_localityName ||
            nid == NID_stateOrProvinceName || nid == NID_countryName) {
            X509_NAME_add_entry(subject.get(), e, -1, 0);
        }
    }
    X509_NAME_add_entry_by_NID(subject.get(), NID_commonName, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(device.c_str()), -1, -1, 0);
    X509_set_subject_name(cert.get(), subject.get());
    // The issuer is the signing CA's *subject*, which is what makes intermediate CAPFs work.
    X509_set_issuer_name(cert.get(), ca_name);
    if (auto s = set_key(cert.get()); !s) return s.error();
    if (auto s = set_validity(cert.get(), issued_at, backdate_seconds_, days); !s) return s.error();

    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert_.get(), cert.get(), nullptr, nullptr, 0);
    ASN1_OBJECT* key_alg = nullptr;
    X509_PUBKEY_get0_param(&key_alg, nullptr, nullptr, nullptr, X509_get_X509_PUBKEY(cert.get()));
    const bool rsa = OBJ_obj2nid(key_alg) == NID_rsaEncryption;
    const std::string san = "URI:" + device;
    const char* usage = rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature,keyAgreement";
    for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                              std::pair{NID_key_usage, usage},
                              std::pair{NID_ext_key_usage, "serverAuth,clientAuth,ipsecEndSystem"},
                              std::pair{NID_subject_alt_name, san.c_str()},
                              std::pair{NID_subject_key_identifier, "hash"},
                              std::pair{NID_authority_key_identifier, "keyid:always"}}) {
        if (auto s = add_extension(cert.get(), &ctx, nid, value); !s) return s.error();
    }
    if (!crl_url_.empty()) {
        const std::string cdp = "URI:" + crl_url_;  // crl_url_problem() allows no comma, the list separator
        if (auto s = add_extension(cert.get(), &ctx, NID_crl_distribution_points, cdp.c_str()); !s) return s.error();
    }
    if (X509_sign(cert.get(), key_.get(), EVP_sha256()) == 0) return fail(openssl_error("cannot sign LSC"));
    return cert;
}

std::string crl_url_problem(const std::string& url) {
    if (url.rfind("http://", 0) != 0) return "must start with http:// (ASA and FreeRADIUS fetch CRLs over plain HTTP)";
    if (url.size() <= 7 || url.size() > 1024) return "must name a host and be at most 1024 bytes";
    for (char c : url)
        if (c <= ' ' || c >= 0x7f || c == ',') return "must be printable ASCII without spaces or commas";
    return {};
}

Status CapfAuthority::set_crl_url(const std::string& url) {
    if (!url.empty()) {
        if (auto why = crl_url_problem(url); !why.empty()) return fail(ErrorKind::Config, "[capf] crl_url " + why);
    }
    crl_url_ = url;
    return {};
}

}  // namespace lscgate
