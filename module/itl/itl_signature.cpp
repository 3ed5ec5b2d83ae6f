#include "itl/itl_signature.h"

#include "itl/itl_tags.h"
#include "itl/itl_values.h"
#include "pki/certificate.h"
#include "pki/openssl_handles.h"

#include <openssl/err.h>
#include <openssl/rsa.h>

#include <memory>

namespace lscgate::itl {

const char* to_string(SignatureVerdict verdict) {
    switch (verdict) {
        case SignatureVerdict::Valid: return "valid";
        case SignatureVerdict::Invalid: return "invalid";
        case SignatureVerdict::Unsigned: return "unsigned";
        case SignatureVerdict::SignerMissing: return "signer-missing";
        case SignatureVerdict::Unsupported: return "unsupported";
    }
    return "invalid";
}

namespace {

// A record's serial: SERIALNUMBER if written, else the certificate's own.
std::string record_serial(const Record& r) {
    if (const Field* s = r.find(tags::kSerialNumber); s != nullptr) return serial_hex(s->value);
    const Field* c = r.find(tags::kCertificate);
    if (c == nullptr) return "";
    auto cert = parse_certificate_der(c->value);
    if (!cert) return "";
    auto facts = describe_certificate(cert->get());
    return facts ? facts->serial_hex : "";
}

}  // namespace

std::optional<std::size_t> find_signer(const File& file) {
    const Field* serial = file.header_field(tags::kSignerSerial);
    if (serial == nullptr) return std::nullopt;
    const Field* ca = file.header_field(tags::kCaName);
    const std::string want = serial_hex(serial->value);
    std::optional<std::size_t> best;
    int best_score = -1;
    for (std::size_t i = 0; i < file.records.size(); ++i) {
        const Record& r = file.records[i];
        if (r.find(tags::kCertificate) == nullptr || record_serial(r) != want) continue;
        int score = 0;
        if (const Field* issuer = r.find(tags::kIssuerName); ca != nullptr && issuer != nullptr &&
                                                              same_name(field_text(*issuer), field_text(*ca)))
            score += 2;
        if (r.function() == kRoleSast) score += 1;
        if (score > best_score) best = i, best_score = score;
    }
    return best;
}

SignatureCheck verify_signature(const File& file, ByteView data) {
    SignatureCheck out;
    if (const Field* s = file.header_field(tags::kSignerSerial); s != nullptr) out.signer_serial = serial_hex(s->value);
    const Field* sig = file.header_field(tags::kSignature);
    if (sig == nullptr) {
        out.detail = "the header has no SIGNATURE tag: the file is not signed";
        return out;
    }
    out.signature_bits = static_cast<int>(sig->length * 8);
    const Field* digest_code = file.header_field(tags::kDigestAlgorithm);
    const auto digest = digest_code ? hash_name(digest_code->value[0]) : std::nullopt;
    if (!digest) {
        out.verdict = SignatureVerdict::Unsupported;
        out.detail = digest_code ? "unknown DIGESTALGORITHM code " + std::to_string(digest_code->value[0])
                                 : "the header has no DIGESTALGORITHM";
        return out;
    }
    out.digest = *digest;
    if (const Field* alg = file.header_field(tags::kSignatureAlgorithm); alg != nullptr && alg->value[0] != 0) {
        out.verdict = SignatureVerdict::Unsupported;
        out.detail = "SIGNATUREALGORITHM " + std::to_string(alg->value[0]) + " is not RSA (0)";
        return out;
    }
    if (const Field* mod = file.header_field(tags::kSignatureModulus); mod != nullptr) {
        const auto bits = modulus_bits(mod->value[0]);
        if (!bits || *bits != out.signature_bits)
            out.detail = "note: SIGNATUREMODULUS code " + std::to_string(mod->value[0]) + " does not match a " +
                         std::to_string(out.signature_bits) + "-bit signature; ";
    }
    out.signer_record = find_signer(file);
    if (!out.signer_record) {
        out.verdict = SignatureVerdict::SignerMissing;
        out.detail += "no record carries a certificate with the SIGNERID serial " + out.signer_serial;
        return out;
    }
    const Field* der = file.records[*out.signer_record].find(tags::kCertificate);
    auto cert = parse_certificate_der(der->value);
    if (!cert) {
        out.verdict = SignatureVerdict::SignerMissing;
        out.detail += "the signer record's CERTIFICATE does not parse: " + cert.message();
        return out;
    }
    EVP_PKEY* key = X509_get0_pubkey(cert->get());
    if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
        out.verdict = SignatureVerdict::Unsupported;
        out.detail += "the signer's key is not RSA";
        return out;
    }
    // The signed bytes: the whole file with the SIGNATURE TLV cut out.
    Bytes signed_bytes(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(sig->offset));
    signed_bytes.insert(signed_bytes.end(), data.begin() + static_cast<std::ptrdiff_t>(sig->offset + sig->wire_size()),
                        data.end());
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    const bool ok = ctx && EVP_DigestVerifyInit_ex(ctx.get(), &pctx, out.digest.c_str(), nullptr, nullptr, key, nullptr) == 1 &&
                    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
                    EVP_DigestVerify(ctx.get(), sig->value.data(), sig->value.size(), signed_bytes.data(),
                                     signed_bytes.size()) == 1;
    ERR_clear_error();  // a refused signature leaves OpenSSL errors that are not ours to report later
    out.verdict = ok ? SignatureVerdict::Valid : SignatureVerdict::Invalid;
    out.detail += ok ? "signature checks out with record " + std::to_string(*out.signer_record + 1) + "'s certificate"
                     : "the signature does not match the file and record " + std::to_string(*out.signer_record + 1) +
                           "'s certificate (the file was altered after signing, or another key signed it)";
    return out;
}

}  // namespace lscgate::itl
