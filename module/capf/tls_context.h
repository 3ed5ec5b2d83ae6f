#pragma once

#include "pki/issuer.h"
#include "pki/openssl_handles.h"
#include "pki/result.h"

#include <string>
#include <vector>

namespace lscgate::capf {

// The CAPF server's TLS context: presents the CAPF certificate (plus chain),
// requests no client certificate (phones authenticate inside CAPF), TLS 1.2+
// unless "1.0" is configured for legacy phones, which also needs SECLEVEL 0.
Result<SslCtxPtr> make_server_tls_context(const CapfAuthority& authority, const std::string& tls_min);

// A client context that trusts exactly the given CAPF certificates, as a phone
// trusts the CAPF entry of its ITL. `tls_version` pins one version ("" = any ≥ 1.2).
Result<SslCtxPtr> make_client_tls_context(const std::vector<X509*>& trusted_capf, const std::string& tls_version);

}  // namespace lscgate::capf
