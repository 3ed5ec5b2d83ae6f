#include "web/web_identity.h"

#include "pki/certificate.h"
#include "pki/key_spec.h"
#include "pki/keys.h"
#include "pki/openssl_error.h"
#include "pki/secure_file.h"

#include <openssl/rand.h>

#include <filesystem>

namespace lscgate::web {
namespace {

constexpr long kValidityDays = 397;
constexpr std::int64_t kRenewBefore = 30 * 86400;
constexpr int kBackdateSeconds = 300;

Status add_extension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
    X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
    if (!ext) return fail(openssl_error(std::string("cannot build extension ") + OBJ_nid2sn(nid)));
    if (X509_add_ext(cert, ext.get(), -1) != 1) return fail(openssl_error("cannot add extension"));
    return {};
}

Status set_serial_and_validity(X509* cert, UnixTime now) {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return fail(openssl_error("no randomness for a serial"));
    bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x10);  // positive, full length
    BignumPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
    Asn1IntegerPtr serial(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
    if (!serial || X509_set_serialNumber(cert, serial.get()) != 1) return fail(openssl_error("cannot set a serial"));
    if (ASN1_TIME_set(X509_getm_notBefore(cert), static_cast<time_t>(now - kBackdateSeconds)) == nullptr ||
        ASN1_TIME_set(X509_getm_notAfter(cert), static_cast<time_t>(now + kValidityDays * 86400)) == nullptr)
        return fail(openssl_error("cannot set validity"));
    return {};
}

// The key file must be 0600-like, and the certificate must belong to it.
Result<WebIdentity> load_files(const std::filesystem::path& cert_path, const std::filesystem::path& key_path,
                               const std::string& origin) {
    if (auto s = check_secret_file_mode(key_path); !s) return s.error();
    auto bundle = load_certificate_bundle(cert_path);
    if (!bundle) return fail(ErrorKind::Config, cert_path.string() + ": " + bundle.message());
    auto key = load_private_key(key_path);
    if (!key) return fail(ErrorKind::Config, key_path.string() + ": " + key.message());
    WebIdentity out;
    out.certificate = std::move(bundle->front());
    for (std::size_t i = 1; i < bundle->size(); ++i) out.chain.push_back(std::move((*bundle)[i]));
    out.key = std::move(*key);
    if (!same_public_key(X509_get0_pubkey(out.certificate.get()), out.key.get()))
        return fail(ErrorKind::Config, key_path.string() + " is not the key of " + cert_path.string());
    out.origin = origin;
    return out;
}

// The directory's own identity is usable when both files load and it has at least 30 days left.
bool usable(const Result<WebIdentity>& id, UnixTime now) {
    if (!id) return false;
    auto facts = describe_certificate(id->certificate.get());
    return facts && facts->not_after - now >= kRenewBefore;
}

}  // namespace

Result<X509Ptr> create_web_certificate(EVP_PKEY* key, const ListenAddress& listen, UnixTime now) {
    X509Ptr cert(X509_new());
    if (!cert) return fail(openssl_error("X509_new"));
    X509NamePtr name(X509_NAME_new());
    if (!name || X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                                            reinterpret_cast<const unsigned char*>("lscgate web administration"), -1,
                                            -1, 0) != 1)
        return fail(openssl_error("cannot build the subject"));
    X509_set_version(cert.get(), X509_VERSION_3);
    X509_set_subject_name(cert.get(), name.get());
    X509_set_issuer_name(cert.get(), name.get());
    if (X509_set_pubkey(cert.get(), key) != 1) return fail(openssl_error("cannot set the public key"));
    if (auto s = set_serial_and_validity(cert.get(), now); !s) return s.error();
    std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1";
    if (!listen.loopback) san += ",IP:" + listen.host;
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    for (const auto& [nid, value] : {std::pair<int, std::string>{NID_basic_constraints, "critical,CA:FALSE"},
                                     {NID_key_usage, "critical,digitalSignature"},
                                     {NID_ext_key_usage, "serverAuth"},
                                     {NID_subject_key_identifier, "hash"},
                                     {NID_subject_alt_name, san}}) {
        if (auto s = add_extension(cert.get(), &ctx, nid, value); !s) return s.error();
    }
    if (X509_sign(cert.get(), key, EVP_sha256()) == 0) return fail(openssl_error("cannot sign the web certificate"));
    return cert;
}

Result<WebIdentity> load_web_identity(const Config& cfg, const ListenAddress& listen, UnixTime now) {
    if (!cfg.web.certificate.empty()) {
        const auto cert = cfg.resolve(cfg.web.certificate);
        return load_files(cert, cfg.resolve(cfg.web.key), cert.string() + " ([web] certificate)");
    }
    const auto cert_path = cfg.dir / "web.crt";
    const auto key_path = cfg.dir / "web.key";
    if (std::filesystem::exists(key_path))
        if (auto s = check_secret_file_mode(key_path); !s) return s.error();
    auto existing = load_files(cert_path, key_path, cert_path.string() + " (self-signed)");
    if (usable(existing, now)) return existing;
    auto key = generate_key(KeySpec{KeyType::Ec, 0, EcCurve::P256});
    if (!key) return key.error();
    auto cert = create_web_certificate(key->get(), listen, now);
    if (!cert) return cert.error();
    // The key first, 0600 from its first byte: a certificate never points at a key that is not there.
    if (auto s = save_private_key(key_path, key->get()); !s) return s.error();
    if (auto s = write_file_atomically(cert_path, certificate_pem(cert->get()), FileMode::Public); !s) return s.error();
    WebIdentity out;
    out.certificate = std::move(*cert);
    out.key = std::move(*key);
    out.origin = cert_path.string() + " (self-signed, made now)";
    return out;
}

}  // namespace lscgate::web
