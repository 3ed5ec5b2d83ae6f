#include "capf/serving_setup.h"

#include "capf/tls_context.h"
#include "pki/key_strength.h"

namespace lscgate::capf {

void apply_command_line(Config& config, const ServeOptions& options) {
    if (!options.listen.empty()) config.listen = options.listen;
    if (!options.tls_min.empty()) config.tls_min = options.tls_min;
}

Result<ServingPlan> build_serving_plan(Config config, const ServeOptions& options) {
    apply_command_line(config, options);
    if (auto s = config.validate(); !s) return s.error();

    const auto capf_path = config.resolve(config.capf_cert).string();
    auto authority = CapfAuthority::load(config.resolve(config.capf_cert), config.resolve(config.capf_key),
                                         config.resolve(config.capf_chain));
    if (!authority) return authority.error();
    if (auto s = authority->set_backdate_seconds(config.backdate_seconds); !s) return s.error();
    if (auto s = authority->set_crl_url(config.crl_url); !s) return s.error();
    std::vector<std::string> warnings;
    if (auto weak = weak_capf_certificate_reason(authority->certificate()); !weak.empty())
        warnings.push_back("capf warning: CAPF certificate " + capf_path + ": " + weak +
                           "; rotate to a strong CAPF (README: Rotating the CAPF certificate)");

    // Trust for LSC proofs: every CAPF certificate still current or previous in
    // the registry (so phones can re-key with an LSC from before a rotation), and our own.
    std::vector<X509Ptr> own;
    own.push_back(share(authority->certificate()));
    auto loader = TrustLoader::create(std::move(own), {}, config.resolve(config.mic_roots));
    if (!loader) return fail(ErrorKind::Config, "[auth] mic_roots: " + loader.message());
    const std::size_t mic_count = loader->mic_root_count();
    // Under `require` every session would fail on our side: refuse instead.
    if (config.sudi == SudiPolicy::Require && mic_count == 0)
        return fail(ErrorKind::Config, "[auth] sudi = \"require\" needs [auth] mic_roots (the Cisco SUDI/manufacturing CA "
                                       "certificates); without them no SUDI can be verified");
    auto tls = make_server_tls_context(*authority, config.tls_min);
    if (!tls) {
        if (tls.kind() != ErrorKind::Config) return tls.error();
        return fail(ErrorKind::Config, "CAPF certificate " + capf_path + ": " + tls.message());
    }
    auto setup = std::make_shared<ServingSetup>(
        ServingSetup{std::move(config), std::move(*authority), std::move(*tls), mic_count, std::move(warnings)});
    return ServingPlan{std::move(setup), std::move(*loader)};
}

std::vector<std::string> keep_restart_only_settings(const Config& running, Config& next) {
    std::vector<std::string> kept;
    if (next.listen != running.listen) {
        kept.push_back("[server] listen = " + next.listen + " takes effect at the next start (still listening on " +
                       running.listen + ")");
        next.listen = running.listen;
    }
    if (next.database_location() != running.database_location()) {
        kept.push_back("the database " + next.database_display() + " (" + next.database_origin +
                       ") takes effect at the next start (still using " + running.database_display() + ")");
        next.database = running.database;
        next.database_origin = running.database_origin;
    }
    return kept;
}

}  // namespace lscgate::capf
