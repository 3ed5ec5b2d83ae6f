#include "capf/crl_scope.h"
#include "cli/commands.h"
#include "pki/certificate.h"
#include "pki/crl.h"
#include "pki/issuer.h"
#include "pki/key_strength.h"
#include "pki/keys.h"
#include "pki/printable.h"
#include "registry/registry_reader.h"
#include "pki/secure_file.h"
#include "pki/trust_loader.h"

#include <filesystem>
#include <fstream>

#include <cctype>

namespace lscgate::cli {

std::string keep_previous_capf_key(const Config& cfg, const std::string& replacing_with) {
    const auto cert_path = cfg.resolve(cfg.capf_cert);
    const auto key_path = cfg.resolve(cfg.capf_key);
    std::error_code ec;
    if (!std::filesystem::exists(cert_path, ec)) return {};
    auto cert = load_certificate(cert_path);
    auto facts = cert ? describe_certificate(cert->get()) : Result<CertificateFacts>(cert.error());
    if (!facts) return "the previous CAPF key was not kept (" + facts.message() + "): no CRL can be signed for its LSCs";
    if (facts->sha256 == replacing_with) return {};
    auto key = load_private_key(key_path);
    if (!key || !same_public_key(X509_get0_pubkey(cert->get()), key->get()))
        return "the previous CAPF key was not kept (" + (key ? key_path.string() + " is another certificate's key" : key.message()) +
               "): no CRL can be signed for its LSCs";
    const auto kept = capf::kept_capf_key_file(key_path.parent_path(), *facts);
    if (auto s = save_private_key(kept, key->get()); !s)
        return "the previous CAPF key was not kept (" + s.message() + "): no CRL can be signed for its LSCs";
    return "kept the previous CAPF key as " + kept.string() +
           " (0600): it signs the CRL of that CAPF's LSCs until 'lscgate capf retire' deletes it";
}

namespace {

nlohmann::json facts_json(const CertificateFacts& f, UnixTime now) {
    return {{"subject", f.subject},
            {"issuer", f.issuer},
            {"serial", f.serial_hex},
            {"not_before", format_utc(f.not_before)},
            {"not_after", format_utc(f.not_after)},
            {"days_left", (f.not_after - now) / 86400},
            {"sha256", f.sha256},
            {"key", f.key_type + ":" + std::to_string(f.key_bits)}};
}

int run_show(CliContext& ctx) {
    auto cfg = ctx.config();
    if (!cfg) return ctx.error(cfg.message());
    auto cert = load_certificate(cfg->resolve(cfg->capf_cert));
    if (!cert) return ctx.error(cert.message());
    auto facts = describe_certificate(cert->get());
    if (!facts) return ctx.error(facts.message());
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    auto all = store->list_capf_certificates();
    if (!all) return ctx.error(all.message());
    const auto now = now_utc();
    if (ctx.json) {
        nlohmann::json j = facts_json(*facts, now);
        j["self_signed"] = facts->subject == facts->issuer;
        j["history"] = nlohmann::json::array();
        for (const auto& r : *all) {
            auto h = facts_json(r.facts, now);
            h["status"] = std::string(to_string(r.status));
            j["history"].push_back(h);
        }
        ctx.print_json(j);
        return kExitOk;
    }
    const auto days_left = (facts->not_after - now) / 86400;
    std::cout << "CAPF certificate " << cfg->resolve(cfg->capf_cert).string() << "\n"
              << "  subject     " << facts->subject << "\n"
              << "  issuer      " << facts->issuer << (facts->subject == facts->issuer ? " (self-signed)" : "") << "\n"
              << "  serial      " << facts->serial_hex << "\n"
              << "  valid       " << format_utc(facts->not_before) << " .. " << format_utc(facts->not_after) << "\n"
              << "  days left   " << days_left << (days_left < 30 ? "  << renew soon" : "") << "\n"
              << "  key         " << facts->key_type << ":" << facts->key_bits << "\n"
              << "  SHA-256     " << facts->sha256 << "\n";
    if (all->size() > 1) {
        std::cout << "trusted for LSC re-keying:\n";
        for (const auto& r : *all)
            std::cout << "  " << to_string(r.status) << "  " << r.facts.subject << "  until " << format_utc(r.facts.not_after)
                      << "  " << r.facts.sha256.substr(0, 16) << "...\n";
    }
    std::cout.flush();
    return kExitOk;
}

int run_import(CliContext& ctx, const std::string& cert_file, const std::string& key_file, const std::string& chain_file,
               bool allow_weak) {
    auto cfg = ctx.config();
    if (!cfg) return ctx.error(cfg.message());
    auto cert = load_certificate(cert_file);
    if (!cert) return ctx.error(cert.message());
    auto key = load_private_key(key_file);
    if (!key) return ctx.error(key.message());
    if (auto problem = capf_certificate_problem(cert->get(), key->get()); !problem.empty())
        return ctx.error(cert_file + " cannot be a CAPF certificate: " + problem);
    // A weak CAPF imports fine and then fails far from here (serve, FreeRADIUS):
    // refuse it now, with what breaks, unless the administrator insists.
    if (auto weak = weak_capf_certificate_reason(cert->get()); !weak.empty()) {
        if (!allow_weak)
            return ctx.error(cert_file + " is a weak CAPF certificate: " + weak +
                             ". Issue a new CAPF with an RSA-2048+ or EC P-256+ key signed with SHA-256 (the old one "
                             "can stay trusted as previous: README, Rotating the CAPF certificate), or pass "
                             "--allow-weak-capf to import it anyway");
        std::cerr << "lscgate: warning: " << cert_file << ": " << weak << std::endl;
    }
    // Not refused (phones and RADIUS work without a CRL), but said now rather
    // than at the first `lscgate crl` or revoke.
    if (auto why = crl_signer_problem(cert->get()); !why.empty())
        std::cerr << "lscgate: warning: " << cert_file << ": lscgate cannot publish a CRL signed by it: " << why
                  << std::endl;
    std::string chain_pem;
    if (!chain_file.empty()) {
        auto chain = load_certificate_bundle(chain_file);
        if (!chain) return ctx.error(chain.message());
        // The chain must start with the CA that signed the CAPF certificate.
        if (X509_check_issued(chain->front().get(), cert->get()) != X509_V_OK ||
            X509_verify(cert->get(), X509_get0_pubkey(chain->front().get())) != 1)
            return ctx.error(chain_file + ": its first certificate did not sign " + cert_file);
        for (const auto& c : *chain) chain_pem += certificate_pem(c.get());
    }
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    const auto incoming = describe_certificate(cert->get());
    if (auto kept = keep_previous_capf_key(*cfg, incoming ? incoming->sha256 : ""); !kept.empty())
        std::cerr << "lscgate: " << kept << std::endl;
    if (auto s = save_private_key(cfg->resolve(cfg->capf_key), key->get()); !s) return ctx.error(s.message());
    if (auto s = write_file_atomically(cfg->resolve(cfg->capf_cert), certificate_pem(cert->get()), FileMode::Public); !s)
        return ctx.error(s.message());
    const auto chain_path = cfg->resolve(cfg->capf_chain);
    if (!chain_pem.empty()) {
        if (auto s = write_file_atomically(chain_path, chain_pem, FileMode::Public); !s) return ctx.error(s.message());
    } else {
        std::error_code ec;
        std::filesystem::remove(chain_path, ec);
    }
    if (auto s = store->add_capf_certificate(cert->get(), actor_name()); !s) return ctx.error(s.message());
    auto facts = describe_certificate(cert->get());
    std::cout << "imported CAPF certificate " << facts->subject << " issued by " << facts->issuer
              << (chain_pem.empty() ? "" : " (with chain)") << "\n  SHA-256 " << facts->sha256
              << "\nrestart 'lscgate serve' to present it to phones" << std::endl;
    return kExitOk;
}

int run_retire(CliContext& ctx, const std::string& fingerprint) {
    for (const char c : fingerprint)
        if (std::isxdigit(static_cast<unsigned char>(c)) == 0 && c != ':')
            return ctx.error("invalid fingerprint '" + escape_nonprintable(fingerprint) +
                             "': hex digits (optionally ':'-separated), as 'lscgate capf show' prints them");
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    auto retired = store->retire_capf_certificate(fingerprint, actor_name());
    if (!retired) return ctx.error(retired.message());
    std::cout << "retired CAPF certificate " << retired->facts.subject << " (SHA-256 " << retired->facts.sha256
              << "): its LSCs are no longer trusted (rlm_lscgate and lscgate serve within their trust_refresh "
                 "seconds; rebuild eap's ca_file with 'lscgate capf bundle')"
              << std::endl;
    // A retired CAPF signs nothing any more, not even its CRL: its kept key goes.
    if (auto cfg = ctx.config()) {
        const auto kept = capf::kept_capf_key_file(cfg->resolve(cfg->capf_key).parent_path(), retired->facts);
        std::error_code ec;
        if (std::filesystem::remove(kept, ec)) std::cout << "deleted its kept key " << kept.string() << std::endl;
        else if (ec) std::cerr << "lscgate: warning: cannot delete " << kept.string() << ": " << ec.message() << std::endl;
    }
    return kExitOk;
}

struct BundleOptions {
    std::string mic_roots;  // overrides [auth] mic_roots; "-" = none
    std::string output;     // "" = stdout
};

// The PEM bundle FreeRADIUS's eap module needs as ca_file: what the TrustLoader
// trusts (registry CAPF current + previous, [capf] cert and chain, MIC roots).
int run_bundle(CliContext& ctx, const BundleOptions& options) {
    auto cfg = ctx.config();
    if (!cfg) return ctx.error(cfg.message());
    std::vector<X509Ptr> extra;
    for (const auto& file : {cfg->resolve(cfg->capf_cert), cfg->resolve(cfg->capf_chain)}) {
        std::error_code ec;
        if (file.empty() || !std::filesystem::exists(file, ec)) continue;  // the chain is optional
        auto certs = load_certificate_bundle(file);
        if (!certs) return ctx.error(certs.message());
        for (auto& c : *certs) extra.push_back(std::move(c));
    }
    const auto mic = options.mic_roots == "-"   ? std::filesystem::path()
                     : options.mic_roots.empty() ? cfg->resolve(cfg->mic_roots)
                                                 : std::filesystem::path(options.mic_roots);
    auto loader = TrustLoader::create(std::move(extra), {}, mic);
    if (!loader) return ctx.error(loader.message());
    auto registry = RegistryReader::open(cfg->database_location(), 1);
    if (!registry) return ctx.error(without_database_secrets(registry.error(), cfg->database_location()).message);
    auto material = loader->load(**registry);
    if (!material) return ctx.error(material.message());
    auto pem = (*material)->pem_bundle();
    if (!pem) return ctx.error(pem.message());
    if (pem->empty()) return ctx.error("no trusted certificate: the registry has no current or previous CAPF");
    if (options.output.empty()) {
        std::cout << *pem << std::flush;
        return kExitOk;
    }
    std::ofstream out(options.output, std::ios::trunc);
    if (!(out << *pem) || !out.flush()) return ctx.error("cannot write " + options.output);
    return kExitOk;
}

}  // namespace

void add_capf_command(CLI::App& app, CliContext& ctx) {
    auto* capf = app.add_subcommand("capf", "CAPF certificate lifecycle");
    capf->require_subcommand(1);
    auto* show = capf->add_subcommand("show", "Show the CAPF certificate and the ones still trusted");
    show->add_flag("--json", ctx.json, "print as JSON");
    show->callback([&ctx] { ctx.exit_code = run_show(ctx); });

    auto* import = capf->add_subcommand("import", "Install a CAPF certificate signed by another CA (an intermediate)");
    auto cert = std::make_shared<std::string>();
    auto key = std::make_shared<std::string>();
    auto chain = std::make_shared<std::string>();
    import->add_option("--cert", *cert, "CAPF certificate (PEM)")->required()->check(CLI::ExistingFile);
    import->add_option("--key", *key, "its private key (PEM, unencrypted)")->required()->check(CLI::ExistingFile);
    import->add_option("--chain", *chain, "issuing CA certificates (PEM bundle), signer first")->check(CLI::ExistingFile);
    auto allow_weak = std::make_shared<bool>(false);
    import->add_flag("--allow-weak-capf", *allow_weak,
                     "import a key below RSA-2048/EC-256 or a SHA-1 signature (OpenSSL security level 2 refuses them)");
    import->callback([&ctx, cert, key, chain, allow_weak] {
        ctx.exit_code = run_import(ctx, *cert, *key, *chain, *allow_weak);
    });

    auto* retire = capf->add_subcommand("retire", "Stop trusting a previous CAPF certificate (after all phones re-keyed)");
    auto fingerprint = std::make_shared<std::string>();
    retire->add_option("SHA256", *fingerprint, "its SHA-256 fingerprint, or the first 8+ hex digits (see capf show)")->required();
    retire->callback([&ctx, fingerprint] { ctx.exit_code = run_retire(ctx, *fingerprint); });

    auto* bundle = capf->add_subcommand(
        "bundle", "Print the trusted certificates as one PEM bundle (FreeRADIUS eap ca_file): the registry's current "
                  "and previous CAPF certificates, [capf] cert and chain, and the MIC roots");
    auto bundle_options = std::make_shared<BundleOptions>();
    bundle->add_option("--mic-roots", bundle_options->mic_roots,
                       "MIC roots (PEM file or directory) instead of [auth] mic_roots; '-' for none");
    bundle->add_option("-o,--output", bundle_options->output, "write to FILE instead of standard output");
    bundle->callback([&ctx, bundle_options] { ctx.exit_code = run_bundle(ctx, *bundle_options); });

    add_capf_sessions_command(*capf, ctx);
}

}  // namespace lscgate::cli
