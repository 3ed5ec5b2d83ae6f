#include "pki/possession_proof.h"

#include "pki/openssl_error.h"

#include <openssl/err.h>
#include "pki/openssl_handles.h"

#include <openssl/ec.h>
#include <openssl/rsa.h>

namespace lscgate {

Bytes proof_digest(ProofHash hash, ByteView message) {
    const EVP_MD* md = hash == ProofHash::Sha1 ? EVP_sha1() : EVP_sha512();
    Bytes out(static_cast<std::size_t>(EVP_MD_get_size(md)));
    unsigned int len = 0;
    EVP_Digest(message.data(), message.size(), out.data(), &len, md, nullptr);
    out.resize(len);
    return out;
}

namespace {

Result<EvpPkeyCtxPtr> raw_ctx(EVP_PKEY* key, bool signing) {
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new(key, nullptr));
    if (!ctx) return fail(openssl_error("cannot create key context"));
    const int init = signing ? EVP_PKEY_sign_init(ctx.get()) : EVP_PKEY_verify_init(ctx.get());
    if (init != 1) return fail(openssl_error("key cannot be used for signatures"));
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
        // No signature digest is set on purpose: OpenSSL then pads the input as-is
        // (type-1, no DigestInfo), which is the CAPF format.
        if (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1)
            return fail(openssl_error("cannot select PKCS#1 padding"));
    }
    return ctx;
}

// Raw r||s (two equal halves) → DER ECDSA-Sig-Value.
Result<Bytes> raw_ecdsa_to_der(ByteView sig) {
    if (sig.empty() || sig.size() % 2 != 0 || sig.size() > 2 * 66) return fail("signature is neither DER nor raw r||s");
    const auto half = static_cast<int>(sig.size() / 2);
    ECDSA_SIG* es = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(sig.data(), half, nullptr);
    BIGNUM* s = BN_bin2bn(sig.data() + half, half, nullptr);
    if (es == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(es, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return fail("cannot convert raw ECDSA signature");
    }
    unsigned char* der = nullptr;
    const int len = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
    if (len <= 0) return fail("cannot convert raw ECDSA signature");
    Bytes out(der, der + len);
    OPENSSL_free(der);
    return out;
}

}  // namespace

Result<Bytes> sign_proof(EVP_PKEY* key, ProofHash hash, ByteView message) {
    const Bytes digest = proof_digest(hash, message);
    auto ctx = raw_ctx(key, true);
    if (!ctx) return ctx.error();
    std::size_t len = 0;
    if (EVP_PKEY_sign(ctx->get(), nullptr, &len, digest.data(), digest.size()) != 1)
        return fail(openssl_error("cannot size proof signature"));
    Bytes sig(len);
    if (EVP_PKEY_sign(ctx->get(), sig.data(), &len, digest.data(), digest.size()) != 1)
        return fail(openssl_error("cannot sign proof (RSA key too small for the digest?)"));
    sig.resize(len);
    return sig;
}

Status verify_proof(EVP_PKEY* key, ProofHash hash, ByteView message, ByteView signature) {
    const Bytes digest = proof_digest(hash, message);
    const int type = EVP_PKEY_get_base_id(key);
    if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC) return fail(ErrorKind::AuthFailed, "proof key is neither RSA nor EC");
    auto ctx = raw_ctx(key, false);
    if (!ctx) return ctx.error();
    if (EVP_PKEY_verify(ctx->get(), signature.data(), signature.size(), digest.data(), digest.size()) == 1) return {};
    ERR_clear_error();
    if (type == EVP_PKEY_EC) {
        auto der = raw_ecdsa_to_der(signature);
        if (der) {
            auto ctx2 = raw_ctx(key, false);
            if (ctx2 && EVP_PKEY_verify(ctx2->get(), der->data(), der->size(), digest.data(), digest.size()) == 1)
                return {};
            ERR_clear_error();
        }
    }
    return fail(ErrorKind::AuthFailed,
                hash == ProofHash::Sha1 ? "SHA-1 proof signature does not verify" : "SHA-512 proof signature does not verify");
}

Bytes certificate_proof_message(const std::string& device_name, ByteView cert_der) {
    Bytes m(device_name.begin(), device_name.end());
    m.push_back(0);
    m.insert(m.end(), cert_der.begin(), cert_der.end());
    return m;
}

}  // namespace lscgate
