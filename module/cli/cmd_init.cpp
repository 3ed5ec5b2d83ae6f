#include "cli/commands.h"
#include "core/certificate.h"
#include "core/issuer.h"
#include "core/key_strength.h"
#include "core/keys.h"
#include "core/secure_file.h"

#include <sys/stat.h>

namespace lscgate::cli {
namespace {

struct InitArgs {
    std::string key = "rsa:2048";
    int days = 3650;
    std::string subject;
    bool force = false;
    bool allow_weak_capf = false;
};

int run_init(CliContext& ctx, const InitArgs& args) {
    const std::filesystem::path dir(ctx.dir);
    auto spec = parse_key_spec(args.key);
    if (!spec) return ctx.error(spec.message());
    if (auto weak = weak_capf_key_spec_reason(*spec); !weak.empty()) {
        if (!args.allow_weak_capf) return ctx.error(weak + " (--allow-weak-capf creates it anyway)");
        std::cerr << "lscgate: warning: " << weak << "\n";
    }
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return ctx.error("cannot create " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0750);

    const auto toml_path = dir / "lscgate.toml";
    if (!std::filesystem::exists(toml_path)) {
        if (auto s = write_file_atomically(toml_path, default_config_text(), FileMode::Public); !s) return ctx.error(s.message());
    }
    auto cfg = load_config(dir);
    if (!cfg) return ctx.error(cfg.message());
    const auto cert_path = cfg->resolve(cfg->capf_cert);
    const auto key_path = cfg->resolve(cfg->capf_key);
    if ((std::filesystem::exists(cert_path) || std::filesystem::exists(key_path)) && !args.force)
        return ctx.error("a CAPF certificate already exists in " + dir.string() +
                         "; refusing to overwrite it (use --force to rotate: the old certificate stays trusted as 'previous')");

    auto store = Store::open(cfg->resolve(cfg->database).string(), Store::OpenMode::CreateAndMigrate);
    if (!store) return ctx.error(store.message());
    auto key = generate_key(*spec);
    if (!key) return ctx.error(key.message());
    CapfCertificateRequest request{*spec, args.days, args.subject};
    request.backdate_seconds = cfg->backdate_seconds;
    auto cert = create_capf_certificate(key->get(), request);
    if (!cert) return ctx.error(cert.message());
    // Key first: a certificate without its key on disk would be useless.
    if (auto s = save_private_key(key_path, key->get()); !s) return ctx.error(s.message());
    if (auto s = write_file_atomically(cert_path, certificate_pem(cert->get()), FileMode::Public); !s)
        return ctx.error(s.message());
    if (auto s = store->add_capf_certificate(cert->get(), actor_name()); !s) return ctx.error(s.message());

    auto facts = describe_certificate(cert->get());
    if (ctx.json) {
        ctx.print_json({{"dir", dir.string()},
                        {"capf_certificate", cert_path.string()},
                        {"capf_key", key_path.string()},
                        {"database", cfg->resolve(cfg->database).string()},
                        {"subject", facts->subject},
                        {"sha256", facts->sha256},
                        {"not_after", format_utc(facts->not_after)}});
    } else {
        std::cout << "initialised " << dir.string() << "\n"
                  << "  CAPF certificate  " << cert_path.string() << "\n"
                  << "  CAPF key          " << key_path.string() << " (0600)\n"
                  << "  database          " << cfg->resolve(cfg->database).string() << "\n"
                  << "  config            " << toml_path.string() << "\n"
                  << "  subject           " << facts->subject << "\n"
                  << "  key               " << spec->to_string() << "\n"
                  << "  valid until       " << format_utc(facts->not_after) << "\n"
                  << "  SHA-256           " << facts->sha256 << std::endl;
    }
    return kExitOk;
}

}  // namespace

void add_init_command(CLI::App& app, CliContext& ctx) {
    auto* cmd = app.add_subcommand("init", "Create a lab/production CAPF: key, certificate, database and config in --dir");
    auto args = std::make_shared<InitArgs>();
    cmd->add_option("--capf-key", args->key, "rsa:2048|rsa:4096|ec:p256|ec:p384 (RSA-2048 is what every phone accepts)")
        ->capture_default_str();
    cmd->add_option("--capf-days", args->days, "CAPF certificate validity in days")
        ->capture_default_str()
        ->check(CLI::Range(1, 10950));
    cmd->add_option("--subject", args->subject, "CAPF subject DN, e.g. \"CN=CAPF-lab,OU=Voice,O=Example\"");
    cmd->add_flag("--force", args->force, "replace an existing CAPF certificate (rotation)");
    cmd->add_flag("--allow-weak-capf", args->allow_weak_capf,
                  "allow a key below rsa:2048 (refused by OpenSSL security level 2: serve and FreeRADIUS fail)");
    cmd->add_flag("--json", ctx.json, "print the result as JSON");
    cmd->callback([&ctx, args] { ctx.exit_code = run_init(ctx, *args); });
}

}  // namespace lscgate::cli
