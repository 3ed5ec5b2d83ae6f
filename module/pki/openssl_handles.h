// Owning handles for every OpenSSL object the project touches, so no code path
// (including early error returns) can leak or double-free one.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace lscgate {

template <auto FreeFn>
struct OpensslDeleter {
    template <class T>
    void operator()(T* p) const noexcept { FreeFn(p); }
};

using BioPtr = std::unique_ptr<BIO, OpensslDeleter<BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpensslDeleter<BN_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpensslDeleter<EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpensslDeleter<EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpensslDeleter<EVP_MD_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, OpensslDeleter<X509_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OpensslDeleter<X509_NAME_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpensslDeleter<X509_EXTENSION_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpensslDeleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpensslDeleter<X509_STORE_CTX_free>>;
using X509PubkeyPtr = std::unique_ptr<X509_PUBKEY, OpensslDeleter<X509_PUBKEY_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, OpensslDeleter<X509_CRL_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, OpensslDeleter<ASN1_INTEGER_free>>;
using Asn1BitStringPtr = std::unique_ptr<ASN1_BIT_STRING, OpensslDeleter<ASN1_BIT_STRING_free>>;
using X509AlgorPtr = std::unique_ptr<X509_ALGOR, OpensslDeleter<X509_ALGOR_free>>;
using EcGroupPtr = std::unique_ptr<EC_GROUP, OpensslDeleter<EC_GROUP_free>>;
using EcPointPtr = std::unique_ptr<EC_POINT, OpensslDeleter<EC_POINT_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, OpensslDeleter<ASN1_TIME_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, OpensslDeleter<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, OpensslDeleter<SSL_free>>;

struct X509StackDeleter {
    void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_pop_free(s, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;

// Increments the reference count; for storing a borrowed X509 in an owning handle.
inline X509Ptr share(X509* cert) {
    if (cert != nullptr) X509_up_ref(cert);
    return X509Ptr(cert);
}
inline EvpPkeyPtr share(EVP_PKEY* key) {
    if (key != nullptr) EVP_PKEY_up_ref(key);
    return EvpPkeyPtr(key);
}

}  // namespace lscgate
