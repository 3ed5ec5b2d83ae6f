#pragma once

// `lscgate serve`: the TLS listener on TCP 3804. One thread per phone session,
// at most max_sessions at once; SIGTERM/SIGINT stop accepting and let running
// sessions finish (aborting them after a grace period). The trusted CAPF
// certificates (re-key proofs) are re-read from the registry every [capf]
// trust_refresh seconds and on SIGHUP, through the same TrustLoader as RADIUS.

#include "registry/config.h"
#include "pki/result.h"

#include <atomic>
#include <iosfwd>
#include <string>

namespace lscgate::capf {

struct ServeOptions {
    std::string listen;   // overrides [server] listen when non-empty
    std::string tls_min;  // overrides [server] tls_min when non-empty
    int grace_seconds = 30;
    // Set (by the SIGHUP handler) to re-read the trusted CAPF certificates now
    // rather than at the next [capf] trust_refresh tick; cleared by the server.
    std::atomic<bool>* refresh_trust = nullptr;
    // ADDR:PORT to serve the CRL on over HTTP (/capf.crl); empty: no HTTP. The
    // CRL file is kept current either way (capf/crl_service.h).
    std::string crl_http;
};

// Blocks until `stop` becomes true. Every session is logged as one line on `log`.
Status serve(const Config& config, const ServeOptions& options, const std::atomic<bool>& stop, std::ostream& log);

}  // namespace lscgate::capf
