#pragma once

// The certificate `lscgate web` presents (issue 14): the one configured in
// [web] certificate / key, or its own: web.crt / web.key in the lscgate
// directory, self-signed, made at the first start (key 0600 through
// pki/secure_file.h) and made anew when it has less than 30 days left.

#include "pki/certificate.h"
#include "pki/openssl_handles.h"
#include "pki/result.h"
#include "registry/config.h"
#include "web/http_policy.h"

#include <string>
#include <vector>

namespace lscgate::web {

/// A certificate, its chain and its key, ready for the TLS server.
struct WebIdentity {
    X509Ptr certificate;
    std::vector<X509Ptr> chain;  ///< intermediates sent after it (configured bundles only)
    EvpPkeyPtr key;
    std::string origin;  ///< "web.crt (self-signed, made now)", the configured path, … for the start line
};

/// A self-signed server certificate for `key`: CN "lscgate web administration",
/// subjectAltName DNS:localhost, IP:127.0.0.1, IP:::1 and the listen address,
/// CA:FALSE, keyUsage digitalSignature, extendedKeyUsage serverAuth, valid from
/// now − 5 min for 397 days (the longest browsers accept). Errors (Internal): OpenSSL.
Result<X509Ptr> create_web_certificate(EVP_PKEY* key, const ListenAddress& listen, UnixTime now);

/// The identity [web] names, or the directory's own (created or renewed when it
/// is missing or has less than 30 days left). A key file that group or others
/// may read is refused (kind Config, with the chmod to run). Errors: unreadable
/// or mismatched files (Config), OpenSSL (Internal), writing (Internal).
Result<WebIdentity> load_web_identity(const Config& cfg, const ListenAddress& listen, UnixTime now);

}  // namespace lscgate::web
