#include "pki/certificate.h"

#include "pki/keys.h"
#include "pki/openssl_error.h"
#include "pki/secure_file.h"
#include "pki/spki.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <chrono>
#include <ctime>

namespace lscgate {

Result<X509Ptr> parse_certificate_der(ByteView der) {
    const unsigned char* p = der.data();
    X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (!cert) return fail(openssl_error("not a DER X.509 certificate"));
    if (p != der.data() + der.size()) return fail("certificate has trailing bytes after the DER");
    return cert;
}

Result<X509Ptr> parse_certificate_pem(const std::string& pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) return fail(openssl_error("not a PEM certificate"));
    return cert;
}

Result<std::vector<X509Ptr>> parse_certificate_bundle(const std::string& pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    std::vector<X509Ptr> out;
    while (true) {
        X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
        if (!cert) break;
        out.push_back(std::move(cert));
    }
    // Running off the end of the bundle leaves a "no start line" error behind; only
    // report errors when nothing at all could be read.
    if (out.empty()) return fail(openssl_error("no PEM certificate found"));
    ERR_clear_error();
    return out;
}

Result<X509Ptr> load_certificate(const std::filesystem::path& path) {
    auto text = read_text_file(path);
    if (!text) return text.error();
    auto cert = parse_certificate_pem(*text);
    if (!cert) return fail(path.string() + ": " + cert.message());
    return cert;
}

Result<std::vector<X509Ptr>> load_certificate_bundle(const std::filesystem::path& path) {
    auto text = read_text_file(path);
    if (!text) return text.error();
    auto certs = parse_certificate_bundle(*text);
    if (!certs) return fail(path.string() + ": " + certs.message());
    return certs;
}

Bytes certificate_der(const X509* cert) {
    unsigned char* out = nullptr;
    const int len = i2d_X509(cert, &out);
    if (len <= 0) return {};
    Bytes der(out, out + len);
    OPENSSL_free(out);
    return der;
}

std::string certificate_pem(const X509* cert) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), const_cast<X509*>(cert));
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

std::string sha256_hex(ByteView data) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data.data(), data.size(), md);
    return to_hex(ByteView(md, sizeof md));
}

Result<UnixTime> asn1_time_to_unix(const ASN1_TIME* t) {
    struct tm tm {};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return fail("invalid ASN.1 time");
    return static_cast<UnixTime>(timegm(&tm));
}

std::string format_utc(UnixTime t) {
    // By calendar arithmetic rather than gmtime_r(): glibc's gmtime_r takes its
    // process-wide time zone lock, and the RADIUS decision formats a date on every
    // request (the reason names notAfter), on every worker thread at once.
    using namespace std::chrono;
    const sys_seconds at{seconds{t}};
    const sys_days day = floor<days>(at);
    const year_month_day ymd{day};
    const hh_mm_ss<seconds> hms{at - day};
    const int year = static_cast<int>(ymd.year());
    if (year < 0 || year > 9999) {  // not four digits: as strftime prints them
        const std::time_t tt = static_cast<std::time_t>(t);
        struct tm tm {};
        gmtime_r(&tt, &tm);
        char buf[32];
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return buf;
    }
    char buf[] = "0000-00-00T00:00:00Z";
    const auto put = [&buf](std::size_t at_index, unsigned value, int digits) {
        for (int i = digits - 1; i >= 0; --i, value /= 10) buf[at_index + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
    };
    put(0, static_cast<unsigned>(year), 4);
    put(5, static_cast<unsigned>(ymd.month()), 2);
    put(8, static_cast<unsigned>(ymd.day()), 2);
    put(11, static_cast<unsigned>(hms.hours().count()), 2);
    put(14, static_cast<unsigned>(hms.minutes().count()), 2);
    put(17, static_cast<unsigned>(hms.seconds().count()), 2);
    return std::string(buf, sizeof buf - 1);
}

namespace {

std::string name_rfc2253(const X509_NAME* name) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

std::string name_oneline(const X509_NAME* name) {
    char* s = X509_NAME_oneline(name, nullptr, 0);
    std::string out = s != nullptr ? s : "";
    OPENSSL_free(s);
    return out;
}

std::string last_common_name(const X509_NAME* name) {
    int idx = -1;
    int last = -1;
    while ((idx = X509_NAME_get_index_by_NID(name, NID_commonName, idx)) >= 0) last = idx;
    if (last < 0) return {};
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last));
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len < 0) return {};
    std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
    OPENSSL_free(utf8);
    return out;
}

}  // namespace

Result<CertificateFacts> describe_certificate(const X509* cert) {
    CertificateFacts f;
    const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
    BignumPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
    if (!bn) return fail("certificate serial is unreadable");
    char* hex = BN_bn2hex(bn.get());
    f.serial_hex = hex;
    OPENSSL_free(hex);
    f.sha256 = sha256_hex(certificate_der(cert));
    f.subject = name_rfc2253(X509_get_subject_name(cert));
    f.issuer = name_rfc2253(X509_get_issuer_name(cert));
    f.subject_oneline = name_oneline(X509_get_subject_name(cert));
    f.issuer_oneline = name_oneline(X509_get_issuer_name(cert));
    f.common_name = last_common_name(X509_get_subject_name(cert));
    auto nb = asn1_time_to_unix(X509_get0_notBefore(cert));
    auto na = asn1_time_to_unix(X509_get0_notAfter(cert));
    if (!nb || !na) return fail("certificate validity dates are unreadable");
    f.not_before = *nb;
    f.not_after = *na;
    // From the key's encoding, so that a certificate built from the raw
    // SubjectPublicKeyInfo (an LSC just issued) needs no decoded key; the decoded
    // key only for the sizes of other algorithms.
    if (auto spec = describe_spki(X509_get_X509_PUBKEY(cert))) {
        f.key_type = spec->type == KeyType::Rsa ? "rsa" : "ec";
        f.key_bits = spec->type == KeyType::Rsa ? spec->rsa_bits : curve_bits(spec->curve);
    } else if (const EVP_PKEY* key = X509_get0_pubkey(cert)) {
        f.key_type = "other";
        f.key_bits = EVP_PKEY_get_bits(key);
    }
    f.is_ca = X509_check_ca(const_cast<X509*>(cert)) != 0;
    return f;
}

}  // namespace lscgate
