#pragma once

// The one place that says which certificates lscgate trusts for phone
// certificates, used by the CAPF server (LSC re-key proofs, MIC proofs), the
// RADIUS decision engine and `lscgate capf bundle` (eap's ca_file):
//   - CAPF: the registry's current and previous CAPF certificates (never a
//     retired one), then extra certificates given by configuration (the module's
//     capf_certificates, the CAPF server's own certificate, a CAPF chain);
//   - MIC roots: the configured manufacturing roots.
// Files are read once (at start or HUP); the registry part is re-read when its
// CAPF signature changes, so `lscgate capf retire` takes effect without a restart.

#include "pki/openssl_handles.h"
#include "pki/result.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lscgate {

/// Where the registry's trusted CAPF certificates come from (pki defines it, the
/// registry's reader implements it: pki does not depend on the registry).
class CapfCertificateSource {
public:
    virtual ~CapfCertificateSource() = default;
    /// Changes whenever the set of trusted CAPF certificates changes; cheap to poll.
    virtual Result<std::string> capf_signature() = 0;
    /// The CAPF certificates still trusted: current and previous, never retired.
    virtual Result<std::vector<X509Ptr>> trusted_capf_certificates() = 0;
};

struct TrustMaterial {
    std::string signature;         // the registry's CAPF signature this was built from
    std::vector<X509Ptr> capf;     // registry current + previous, then the extra CAPF certificates
    std::vector<X509Ptr> mic_roots;
    std::size_t registry_capf = 0;  // how many of `capf` came from the registry

    std::vector<X509*> capf_anchors() const;
    std::vector<X509*> mic_anchors() const;
    // PEM of every certificate, CAPF first, each once (by SHA-256): a FreeRADIUS
    // eap ca_file. Errors only if OpenSSL cannot encode.
    Result<std::string> pem_bundle() const;
};

class TrustLoader {
public:
    // Reads the optional files: `extra_capf_file` and `mic_roots_file` are a PEM
    // file or a directory of *.pem/*.crt/*.cer (empty path = none). Errors name the file.
    static Result<TrustLoader> create(std::vector<X509Ptr> extra_capf, const std::filesystem::path& extra_capf_file,
                                      const std::filesystem::path& mic_roots_file);

    // The trust material now, or nullopt when the registry's CAPF signature is
    // still `unchanged_since` (pass "" to always load). Registry errors pass through.
    Result<std::optional<TrustMaterial>> load(CapfCertificateSource& registry, const std::string& unchanged_since = {}) const;

    std::size_t mic_root_count() const { return mic_roots_.size(); }

private:
    TrustLoader() = default;
    std::vector<X509Ptr> extra_capf_;
    std::vector<X509Ptr> mic_roots_;
};

}  // namespace lscgate
