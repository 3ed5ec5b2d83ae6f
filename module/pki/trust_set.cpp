#include "pki/trust_set.h"

#include "pki/openssl_error.h"

#include <openssl/err.h>

namespace lscgate {

Result<std::vector<X509Ptr>> load_certificates_from(const std::filesystem::path& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        std::vector<X509Ptr> out;
        for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
            const auto ext = entry.path().extension().string();
            if (!entry.is_regular_file() || (ext != ".pem" && ext != ".crt" && ext != ".cer")) continue;
            auto certs = load_certificate_bundle(entry.path());
            if (!certs) return certs.error();
            for (auto& c : *certs) out.push_back(std::move(c));
        }
        if (ec) return fail("cannot read directory " + path.string() + ": " + ec.message());
        if (out.empty()) return fail(path.string() + ": no *.pem, *.crt or *.cer certificates in directory");
        return out;
    }
    return load_certificate_bundle(path);
}

namespace {

Result<X509StorePtr> make_store(const std::vector<X509*>& anchors) {
    X509StorePtr store(X509_STORE_new());
    if (!store) return fail(openssl_error("cannot create trust store"));
    for (X509* cert : anchors)
        if (X509_STORE_add_cert(store.get(), cert) != 1) ERR_clear_error();  // duplicates are harmless
    return store;
}

Status verify_with(X509_STORE* store, X509* cert, UnixTime now, bool check_time, const char* what) {
    X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!ctx || X509_STORE_CTX_init(ctx.get(), store, cert, nullptr) != 1)
        return fail(openssl_error("cannot start chain verification"));
    // Anchors may be intermediates (a CAPF under a corporate CA, a Cisco
    // manufacturing sub-CA): trust them without requiring the self-signed root.
    unsigned long flags = X509_V_FLAG_PARTIAL_CHAIN;
    if (check_time) X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(now));
    else flags |= X509_V_FLAG_NO_CHECK_TIME;
    X509_STORE_CTX_set_flags(ctx.get(), flags);
    if (X509_verify_cert(ctx.get()) == 1) return {};
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    // Running out of memory is ours; every other verdict is about the certificate.
    const ErrorKind kind = err == X509_V_ERR_OUT_OF_MEM ? ErrorKind::Internal : ErrorKind::AuthFailed;
    return fail(kind, std::string(what) + ": " + X509_verify_cert_error_string(err));
}

}  // namespace

Result<TrustSet> TrustSet::build(const std::vector<X509*>& capf_certificates, const std::vector<X509*>& mic_roots) {
    TrustSet set;
    auto lsc = make_store(capf_certificates);
    if (!lsc) return lsc.error();
    auto mic = make_store(mic_roots);
    if (!mic) return mic.error();
    set.lsc_store_ = std::move(*lsc);
    set.mic_store_ = std::move(*mic);
    set.mic_count_ = mic_roots.size();
    return set;
}

Status TrustSet::verify_lsc(X509* cert, UnixTime now) const {
    // A leaf that claims to be a CA is never a phone certificate.
    if (X509_check_ca(cert) != 0)
        return fail(ErrorKind::AuthFailed, "certificate is a CA certificate, not a phone certificate");
    return verify_with(lsc_store_.get(), cert, now, true, "not an LSC from a trusted CAPF");
}

Status TrustSet::verify_mic(X509* cert, UnixTime now, bool check_time) const {
    if (mic_count_ == 0) return fail(ErrorKind::Config, "no MIC roots configured ([auth] mic_roots)");
    if (X509_check_ca(cert) != 0)
        return fail(ErrorKind::AuthFailed, "certificate is a CA certificate, not a phone certificate");
    return verify_with(mic_store_.get(), cert, now, check_time, "not a MIC from a configured manufacturing root");
}

}  // namespace lscgate
