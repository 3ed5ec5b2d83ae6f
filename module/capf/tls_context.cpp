#include "capf/tls_context.h"

#include "pki/openssl_error.h"

#include <openssl/err.h>

namespace lscgate::capf {
namespace {

// OpenSSL refuses a certificate below the context's security level with a bare
// reason ("ee key too small"); say which certificate, what is weak, what breaks
// and how to fix it. Anything else keeps OpenSSL's own words.
Error certificate_refused(SSL_CTX* ctx, const char* which) {
    const unsigned long code = ERR_peek_last_error();
    const int level = SSL_CTX_get_security_level(ctx);
    const std::string at_level = " for OpenSSL security level " + std::to_string(level) +
                                 (level == 2 ? " (Debian 12's default)" : "");
    const std::string fix =
        "; make a strong CAPF current and keep this one as previous (lscgate init --force, or lscgate capf import; "
        "README: Rotating the CAPF certificate), or, only for legacy phones, [server] tls_min = \"1.0\" (security "
        "level 0)";
    std::string cause;
    if (ERR_GET_LIB(code) == ERR_LIB_SSL) {
        switch (ERR_GET_REASON(code)) {
            case SSL_R_EE_KEY_TOO_SMALL: cause = std::string(which) + "'s key is too small" + at_level; break;
            case SSL_R_CA_KEY_TOO_SMALL: cause = "a chain certificate's key is too small" + at_level; break;
            case SSL_R_CA_MD_TOO_WEAK: cause = std::string(which) + " is signed with a digest too weak" + at_level; break;
            default: break;
        }
    }
    if (cause.empty()) return fail(openssl_error(std::string("cannot load ") + which + " into TLS"));
    ERR_clear_error();
    return fail(ErrorKind::Config, cause + fix);
}

int version_code(const std::string& v) {
    if (v == "1.0") return TLS1_VERSION;
    if (v == "1.1") return TLS1_1_VERSION;
    if (v == "1.2") return TLS1_2_VERSION;
    if (v == "1.3") return TLS1_3_VERSION;
    return -1;
}

}  // namespace

Result<SslCtxPtr> make_server_tls_context(const CapfAuthority& authority, const std::string& tls_min) {
    const int min = version_code(tls_min);
    if (min < 0) return fail("unsupported TLS minimum '" + tls_min + "' (use 1.0, 1.2 or 1.3)");
    SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) return fail(openssl_error("cannot create TLS context"));
    if (min < TLS1_2_VERSION) {
        // Legacy phones: TLS 1.0 with RSA key exchange and SHA-1 only work at security level 0.
        SSL_CTX_set_security_level(ctx.get(), 0);
        if (SSL_CTX_set_cipher_list(ctx.get(), "DEFAULT:@SECLEVEL=0") != 1)
            return fail(openssl_error("cannot set legacy cipher list"));
    }
    SSL_CTX_set_min_proto_version(ctx.get(), min);
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    // TLS 1.3 sends two session tickets after every handshake unless told not to;
    // with no session cache and SSL_OP_NO_TICKET nobody can resume with them, so
    // they were CPU and writes for nothing.
    SSL_CTX_set_num_tickets(ctx.get(), 0);
    if (SSL_CTX_use_certificate(ctx.get(), authority.certificate()) != 1)
        return certificate_refused(ctx.get(), "the CAPF certificate");
    if (SSL_CTX_use_PrivateKey(ctx.get(), authority.key()) != 1 || SSL_CTX_check_private_key(ctx.get()) != 1)
        return fail(openssl_error("cannot load the CAPF key into TLS"));
    for (const auto& c : authority.chain())
        if (SSL_CTX_add1_chain_cert(ctx.get(), c.get()) != 1) return certificate_refused(ctx.get(), "a chain certificate");
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    // The chain sent is exactly the CAPF certificate and [capf] chain set above.
    // Without this OpenSSL tries to build one from the context's (empty)
    // certificate store at every handshake when the chain is empty: a
    // verification context per session for nothing.
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_NO_AUTO_CHAIN);
    return ctx;
}

Result<SslCtxPtr> make_client_tls_context(const std::vector<X509*>& trusted_capf, const std::string& tls_version) {
    SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx) return fail(openssl_error("cannot create TLS context"));
    if (!tls_version.empty()) {
        const int v = version_code(tls_version);
        if (v < 0) return fail("unsupported TLS version '" + tls_version + "'");
        if (v < TLS1_2_VERSION) {
            SSL_CTX_set_security_level(ctx.get(), 0);
            SSL_CTX_set_cipher_list(ctx.get(), "DEFAULT:@SECLEVEL=0");
        }
        SSL_CTX_set_min_proto_version(ctx.get(), v);
        SSL_CTX_set_max_proto_version(ctx.get(), v);
    } else {
        SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    }
    X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
    for (X509* c : trusted_capf) X509_STORE_add_cert(store, c);
    // The CAPF certificate itself is the anchor even when it is an intermediate.
    X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    return ctx;
}

}  // namespace lscgate::capf
