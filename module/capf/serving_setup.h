#pragma once

// What `lscgate serve` derives from lscgate.toml and may replace at a SIGHUP
// without dropping a session: the effective configuration, the CAPF authority
// (certificate, key, chain) with the TLS context presenting it, and the loader
// of the trust set for phone proofs ([auth] mic_roots). Built in one place for
// the start and for every reload, so a reload checks exactly what a start does.

#include "capf/server.h"
#include "pki/issuer.h"
#include "pki/openssl_handles.h"
#include "pki/result.h"
#include "pki/trust_loader.h"
#include "registry/config.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lscgate::capf {

struct ServingSetup {
    Config config;          // with the command line's --listen/--tls-min applied, validated
    CapfAuthority authority;
    SslCtxPtr tls;          // presents `authority`, at config.tls_min
    std::size_t mic_roots = 0;
    std::vector<std::string> warnings;  // log lines for the operator (a weak CAPF certificate)
};

/// The setup and the trust loader built from `config` (overrides of `options`
/// applied). Errors (Config/Internal) name the file or setting: unreadable CAPF
/// key or certificate, a key that does not match, unreadable mic_roots,
/// sudi = "require" without mic_roots, a CAPF certificate the TLS level refuses.
struct ServingPlan {
    std::shared_ptr<const ServingSetup> setup;
    std::optional<TrustLoader> loader;  // always set on success
};
Result<ServingPlan> build_serving_plan(Config config, const ServeOptions& options);

/// The command line's --listen and --tls-min over what the file says: they win
/// at start and after every reload alike.
void apply_command_line(Config& config, const ServeOptions& options);

/// The settings of `next` a reload cannot apply because they are bound at
/// start (the listening socket, the registry connections): one line per
/// setting, naming the running and the new value; "" when there are none.
/// `next` gets the running values back so that the rest can be applied.
std::vector<std::string> keep_restart_only_settings(const Config& running, Config& next);

}  // namespace lscgate::capf
