#pragma once

// Which certificates a phone may prove itself with: LSCs chained to one of our
// CAPF certificates (current or previous, so re-keying keeps working across a
// CAPF rotation) and MICs chained to the configured manufacturing roots.
// Built once; verification is read-only and safe from many threads.

#include "pki/certificate.h"
#include "pki/openssl_handles.h"
#include "pki/result.h"

#include <filesystem>
#include <vector>

namespace lscgate {

// A PEM file (one or many certificates) or a directory of *.pem/*.crt files.
Result<std::vector<X509Ptr>> load_certificates_from(const std::filesystem::path& path);

class TrustSet {
public:
    static Result<TrustSet> build(const std::vector<X509*>& capf_certificates, const std::vector<X509*>& mic_roots);

    // Chain, signature and (for LSCs always, for MICs when check_time) validity at `now`.
    // Error kinds: AuthFailed when the certificate does not verify (untrusted, expired,
    // a CA), Config from verify_mic when no MIC roots are configured (nothing could
    // be checked), Internal when OpenSSL itself fails.
    Status verify_lsc(X509* cert, UnixTime now) const;
    Status verify_mic(X509* cert, UnixTime now, bool check_time) const;
    bool has_mic_roots() const { return mic_count_ > 0; }

private:
    TrustSet() = default;
    X509StorePtr lsc_store_;
    X509StorePtr mic_store_;
    std::size_t mic_count_ = 0;
};

}  // namespace lscgate
