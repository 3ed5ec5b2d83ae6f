#include "cli/commands.h"
#include "core/certificate.h"
#include "core/issuer.h"
#include "core/keys.h"
#include "core/secure_file.h"

#include <sys/stat.h>

namespace lscgate::cli {
namespace {

int run_init(CliContext& ctx, const std::string& key_text, int days, const std::string& subject, bool force) {
    const std::filesystem::path dir(ctx.dir);
    auto spec = parse_key_spec(key_text);
    if (!spec) return ctx.error(spec.message());
    if (spec->type == KeyType::Rsa && spec->rsa_bits < 2048) return ctx.error("a CAPF key must be at least rsa:2048");
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
    if ((std::filesystem::exists(cert_path) || std::filesystem::exists(key_path)) && !force)
        return ctx.error("a CAPF certificate already exists in " + dir.string() +
                         "; refusing to overwrite it (use --force to rotate: the old certificate stays trusted as 'previous')");

    auto store = Store::open(cfg->resolve(cfg->database).string(), Store::OpenMode::CreateAndMigrate);
    if (!store) return ctx.error(store.message());
    auto key = generate_key(*spec);
    if (!key) return ctx.error(key.message());
    auto cert = create_capf_certificate(key->get(), {*spec, days, subject});
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
    auto key = std::make_shared<std::string>("rsa:2048");
    auto days = std::make_shared<int>(3650);
    auto subject = std::make_shared<std::string>();
    auto force = std::make_shared<bool>(false);
    cmd->add_option("--capf-key", *key, "rsa:2048|rsa:4096|ec:p256|ec:p384 (RSA-2048 is what every phone accepts)")
        ->capture_default_str();
    cmd->add_option("--capf-days", *days, "CAPF certificate validity in days")->capture_default_str()->check(CLI::Range(1, 10950));
    cmd->add_option("--subject", *subject, "CAPF subject DN, e.g. \"CN=CAPF-lab,OU=Voice,O=Example\"");
    cmd->add_flag("--force", *force, "replace an existing CAPF certificate (rotation)");
    cmd->add_flag("--json", ctx.json, "print the result as JSON");
    cmd->callback([&ctx, key, days, subject, force] { ctx.exit_code = run_init(ctx, *key, *days, *subject, *force); });
}

}  // namespace lscgate::cli
