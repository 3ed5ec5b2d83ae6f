#include "pki/crl.h"

#include "pki/openssl_error.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <array>
#include <utility>

namespace lscgate {

namespace {

using Asn1EnumeratedPtr = std::unique_ptr<ASN1_ENUMERATED, OpensslDeleter<ASN1_ENUMERATED_free>>;
using X509RevokedPtr = std::unique_ptr<X509_REVOKED, OpensslDeleter<X509_REVOKED_free>>;

constexpr std::array<std::pair<std::string_view, CrlReason>, 7> kReasonNames = {{
    {"unspecified", CrlReason::Unspecified},
    {"key-compromise", CrlReason::KeyCompromise},
    {"ca-compromise", CrlReason::CaCompromise},
    {"affiliation-changed", CrlReason::AffiliationChanged},
    {"superseded", CrlReason::Superseded},
    {"cessation-of-operation", CrlReason::CessationOfOperation},
    {"privilege-withdrawn", CrlReason::PrivilegeWithdrawn},
}};

Result<X509RevokedPtr> make_entry(const CrlEntry& entry) {
    BIGNUM* raw = nullptr;
    if (entry.serial_hex.empty() || BN_hex2bn(&raw, entry.serial_hex.c_str()) != static_cast<int>(entry.serial_hex.size()))
        return fail(ErrorKind::Input, "serial '" + entry.serial_hex + "' is not hex");
    BignumPtr bn(raw);
    Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    Asn1TimePtr when(ASN1_TIME_set(nullptr, static_cast<time_t>(entry.revoked_at)));
    X509RevokedPtr revoked(X509_REVOKED_new());
    if (!serial || !when || !revoked || X509_REVOKED_set_serialNumber(revoked.get(), serial.get()) != 1 ||
        X509_REVOKED_set_revocationDate(revoked.get(), when.get()) != 1)
        return fail(openssl_error("cannot build CRL entry"));
    // RFC 5280 §5.3.1: "the reason code CRL entry extension SHOULD be absent
    // instead of using the unspecified (0) reasonCode value".
    if (entry.reason != CrlReason::Unspecified) {
        Asn1EnumeratedPtr code(ASN1_ENUMERATED_new());
        if (!code || ASN1_ENUMERATED_set(code.get(), static_cast<long>(entry.reason)) != 1 ||
            X509_REVOKED_add1_ext_i2d(revoked.get(), NID_crl_reason, code.get(), 0, 0) != 1)
            return fail(openssl_error("cannot add the CRL reason code"));
    }
    return revoked;
}

Status add_crl_extensions(X509_CRL* crl, const X509* issuer, std::int64_t number) {
    Asn1IntegerPtr n(ASN1_INTEGER_new());
    if (!n || ASN1_INTEGER_set_int64(n.get(), number) != 1 || X509_CRL_add1_ext_i2d(crl, NID_crl_number, n.get(), 0, 0) != 1)
        return fail(openssl_error("cannot add cRLNumber"));
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, const_cast<X509*>(issuer), nullptr, nullptr, crl, 0);
    X509ExtensionPtr aki(X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
    if (!aki || X509_CRL_add_ext(crl, aki.get(), -1) != 1)
        return fail(openssl_error("cannot add authorityKeyIdentifier (the CAPF certificate needs a subjectKeyIdentifier)"));
    return {};
}

}  // namespace

CrlReason crl_reason_from_name(std::string_view name) {
    for (const auto& [text, reason] : kReasonNames)
        if (text == name) return reason;
    return CrlReason::Unspecified;
}

Result<X509CrlPtr> build_crl(const X509* issuer, EVP_PKEY* key, const CrlRequest& request) {
    if (request.next_update <= request.this_update) return fail(ErrorKind::Config, "CRL nextUpdate must be after thisUpdate");
    if (request.number < 0) return fail(ErrorKind::Config, "CRL number must not be negative");
    X509CrlPtr crl(X509_CRL_new());
    Asn1TimePtr this_update(ASN1_TIME_set(nullptr, static_cast<time_t>(request.this_update)));
    Asn1TimePtr next_update(ASN1_TIME_set(nullptr, static_cast<time_t>(request.next_update)));
    if (!crl || !this_update || !next_update || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
        X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer)) != 1 ||
        X509_CRL_set1_lastUpdate(crl.get(), this_update.get()) != 1 ||
        X509_CRL_set1_nextUpdate(crl.get(), next_update.get()) != 1)
        return fail(openssl_error("cannot start the CRL"));
    for (const auto& entry : request.entries) {
        auto revoked = make_entry(entry);
        if (!revoked) return revoked.error();
        if (X509_CRL_add0_revoked(crl.get(), revoked->get()) != 1) return fail(openssl_error("cannot add CRL entry"));
        (void)revoked->release();  // the CRL owns it now
    }
    X509_CRL_sort(crl.get());
    if (auto s = add_crl_extensions(crl.get(), issuer, request.number); !s) return s.error();
    if (X509_CRL_sign(crl.get(), key, EVP_sha256()) == 0) return fail(openssl_error("cannot sign the CRL"));
    return crl;
}

Result<std::string> crl_der(const X509_CRL* crl) {
    unsigned char* der = nullptr;
    const int len = i2d_X509_CRL(const_cast<X509_CRL*>(crl), &der);
    if (len <= 0) return fail(openssl_error("cannot encode the CRL"));
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return out;
}

Result<std::string> crl_pem(const X509_CRL* crl) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509_CRL(bio.get(), const_cast<X509_CRL*>(crl)) != 1)
        return fail(openssl_error("cannot encode the CRL as PEM"));
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

Result<X509CrlPtr> parse_crl(std::string_view bytes) {
    if (bytes.substr(0, 10) == "-----BEGIN") {
        BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
        X509CrlPtr crl(bio ? PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr) : nullptr);
        if (!crl) return fail(ErrorKind::Input, openssl_error("not a PEM CRL"));
        return crl;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(bytes.size())));
    if (!crl) return fail(ErrorKind::Input, openssl_error("not a DER CRL"));
    return crl;
}

Result<CrlFacts> describe_crl(const X509_CRL* crl) {
    CrlFacts f;
    Asn1IntegerPtr number(static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl, NID_crl_number, nullptr, nullptr)));
    if (!number || ASN1_INTEGER_get_int64(&f.number, number.get()) != 1)
        return fail(ErrorKind::Input, "the CRL has no readable cRLNumber");
    auto this_update = asn1_time_to_unix(X509_CRL_get0_lastUpdate(crl));
    if (!this_update) return fail(ErrorKind::Input, "the CRL has no readable thisUpdate");
    const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl);
    auto next_update = next != nullptr ? asn1_time_to_unix(next) : Result<UnixTime>(fail("no nextUpdate"));
    if (!next_update) return fail(ErrorKind::Input, "the CRL has no readable nextUpdate");
    f.this_update = *this_update;
    f.next_update = *next_update;
    STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(const_cast<X509_CRL*>(crl));
    for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
        const X509_REVOKED* r = sk_X509_REVOKED_value(revoked, i);
        BignumPtr bn(ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(r), nullptr));
        auto when = asn1_time_to_unix(X509_REVOKED_get0_revocationDate(r));
        if (!bn || !when) return fail(ErrorKind::Input, "unreadable CRL entry");
        char* hex = BN_bn2hex(bn.get());
        CrlEntry e{hex, *when, CrlReason::Unspecified};
        OPENSSL_free(hex);
        Asn1EnumeratedPtr code(
            static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(r, NID_crl_reason, nullptr, nullptr)));
        if (code) e.reason = static_cast<CrlReason>(ASN1_ENUMERATED_get(code.get()));
        f.entries.push_back(std::move(e));
    }
    return f;
}

bool crl_signed_by(const X509_CRL* crl, const X509* issuer) {
    EVP_PKEY* key = X509_get0_pubkey(issuer);
    return key != nullptr && X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) == 0 &&
           X509_CRL_verify(const_cast<X509_CRL*>(crl), key) == 1;
}

std::string crl_signer_problem(const X509* capf) {
    auto* cert = const_cast<X509*>(capf);  // the getters cache the extensions: logically const
    const uint32_t usage = X509_get_key_usage(cert);
    if ((X509_get_extension_flags(cert) & EXFLAG_KUSAGE) != 0 && (usage & KU_CRL_SIGN) == 0)
        return "its keyUsage lacks cRLSign: head-ends (the ASA) and OpenSSL (FreeRADIUS check_crl) refuse a CRL it "
               "signs; re-issue the CAPF certificate with keyUsage keyCertSign, cRLSign (lscgate init --force makes one) "
               "or have the CA that signs it include cRLSign, then import it (lscgate capf import)";
    if (X509_get0_subject_key_id(cert) == nullptr)
        return "it has no subjectKeyIdentifier, which a CRL's authorityKeyIdentifier needs (RFC 5280 §5.2.1); "
               "re-issue the CAPF certificate with one";
    return {};
}

bool certificate_issued_by(const X509* cert, const X509* capf) {
    auto* c = const_cast<X509*>(cert);
    auto* ca = const_cast<X509*>(capf);
    if (X509_NAME_cmp(X509_get_issuer_name(c), X509_get_subject_name(ca)) != 0) return false;
    const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(c);
    const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(ca);
    if (aki != nullptr && ski != nullptr) return ASN1_OCTET_STRING_cmp(aki, ski) == 0;
    EVP_PKEY* key = X509_get0_pubkey(ca);
    return key != nullptr && X509_verify(c, key) == 1;
}

}  // namespace lscgate
