#pragma once

// `lscgate serve`: the TLS listener on TCP 3804. One thread per phone session,
// at most max_sessions at once; SIGTERM/SIGINT stop accepting and let running
// sessions finish (aborting them after a grace period).

#include "core/config.h"
#include "core/result.h"

#include <atomic>
#include <iosfwd>
#include <string>

namespace lscgate::capf {

struct ServeOptions {
    std::string listen;   // overrides [server] listen when non-empty
    std::string tls_min;  // overrides [server] tls_min when non-empty
    int grace_seconds = 30;
};

// Blocks until `stop` becomes true. Every session is logged as one line on `log`.
Status serve(const Config& config, const ServeOptions& options, const std::atomic<bool>& stop, std::ostream& log);

}  // namespace lscgate::capf
