#include "cli/commands.h"
#include "pki/certificate.h"
#include "pki/issuer.h"
#include "pki/key_strength.h"
#include "pki/keys.h"
#include "pki/secure_file.h"
#include "pki/distinguished_name.h"
#include "pki/printable.h"
#include "pki/trust_set.h"
#include "registry/database_kind.h"
#include "registry/postgresql/pg_migrate.h"
#include "registry/postgresql/pq_conninfo.h"

#include <openssl/rand.h>

#include <cstdio>

#include <sys/stat.h>

namespace lscgate::cli {
namespace {

// "/C=NZ/O=Example/CN=CAPF-hq2" with its (last) CN replaced by "CAPF-" and 8 random
// hex digits, the shape of a generated CAPF name; "" (a generated name) without a CN.
std::string with_fresh_common_name(const std::string& oneline) {
    unsigned char r[4] = {};
    RAND_bytes(r, sizeof r);
    char cn[16];
    std::snprintf(cn, sizeof cn, "CAPF-%02X%02X%02X%02X", r[0], r[1], r[2], r[3]);
    return with_common_name(oneline, cn);
}

// Writes DIR/lscgate.toml naming the --database setting (default lscgate.db)
// when there is none yet; 0600 when that setting carries a password. An
// existing lscgate.toml is never rewritten: a --database that differs from its
// [store] database is refused rather than silently ignored.
Status write_new_config(const CliContext& ctx, const std::filesystem::path& toml_path) {
    const std::string database = ctx.database.value_or("lscgate.db");
    if (auto s = validate_database_setting(database, "--database"); !s) return s;
    if (std::filesystem::exists(toml_path)) {
        if (!ctx.database) return {};
        auto existing = load_config(toml_path.parent_path());
        if (!existing) return existing.error();
        if (existing->database == database) return {};
        return fail(ErrorKind::Config, toml_path.string() + " already names the database " + existing->database_display() +
                                           "; init does not rewrite it: edit [store] database there, or init another --dir");
    }
    const auto mode = conninfo_secrets(database).empty() ? FileMode::Public : FileMode::Secret;
    return write_file_atomically(toml_path, default_config_text(database), mode);
}

// The registry's schema, created (or brought up to date) where cfg says: a
// SQLite file, or the schema `lscgate` in a PostgreSQL database (pg_migrate,
// which needs the issuer role of policy/postgresql/setup.sql or CREATE there).
Result<Store> create_registry(const Config& cfg) {
    const auto location = cfg.database_location();
    if (!is_postgresql_database(location)) return Store::open(location, Store::OpenMode::CreateAndMigrate);
    auto conn = PgConnection::connect(location);
    if (!conn) return conn.error();
    if (auto s = pg_migrate(*conn); !s)
        return fail(s.kind(), "creating the registry schema in " + cfg.database_display() + ": " + s.message());
    // Migrated above: open it as an existing registry (never "create" a URI as a file).
    auto store = Store::open(location, Store::OpenMode::ExistingReadWrite);
    if (!store) return without_database_secrets(store.error(), location);
    return store;
}

struct InitArgs {
    std::string key = "rsa:2048";
    int days = 3650;
    std::string subject;
    bool force = false;
    bool discard_previous_key = false;
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
    // Only a directory init creates gets 0750: an existing one keeps its owner and
    // mode (the packaged /var/lib/lscgate is lscgate:lscgate 2750 so that
    // FreeRADIUS's user, a member of that group, can read the registry).
    if (std::filesystem::create_directories(dir, ec)) ::chmod(dir.c_str(), 0750);
    if (ec) return ctx.error("cannot create " + dir.string() + ": " + ec.message());

    const auto toml_path = dir / "lscgate.toml";
    if (auto s = write_new_config(ctx, toml_path); !s) return ctx.error(s.message());
    auto cfg = ctx.config();
    if (!cfg) return ctx.error(cfg.message());
    const auto cert_path = cfg->resolve(cfg->capf_cert);
    const auto key_path = cfg->resolve(cfg->capf_key);
    if ((std::filesystem::exists(cert_path) || std::filesystem::exists(key_path)) && !args.force)
        return ctx.error("a CAPF certificate already exists in " + dir.string() +
                         "; refusing to overwrite it (use --force to rotate: the old certificate stays trusted as 'previous')");

    auto store = create_registry(*cfg);
    if (!store) return ctx.error(store.message());
    auto key = generate_key(*spec);
    if (!key) return ctx.error(key.message());
    // A rotation keeps the CAPF's O/OU/L/ST/C (which every new LSC copies) unless
    // --subject says otherwise, but never its whole name: the VPN path tells CAPF
    // certificates apart by issuer name (the ASA sends no certificate), so a new
    // CAPF named like the one it replaces would make the old one's LSCs look
    // current after it is retired. A fresh CN does it.
    std::string subject = args.subject;
    std::string previous_subject;
    if (args.force && std::filesystem::exists(cert_path)) {
        auto old = load_certificates_from(cert_path);
        auto facts = old && !old->empty() ? describe_certificate(old->front().get()) : fail("no certificate");
        if (facts) {
            previous_subject = facts->subject;
            if (subject.empty()) subject = with_fresh_common_name(facts->subject_oneline);
            else if (auto mine = parse_distinguished_name(subject);
                     mine && X509_NAME_cmp(mine->get(), X509_get_subject_name(old->front().get())) == 0)
                return ctx.error("--subject " + escape_nonprintable(args.subject) +
                                 " is the current CAPF's name: a rotated CAPF needs another one (RADIUS tells CAPF "
                                 "certificates apart by issuer name on the VPN path); change its CN");
        }
    }
    CapfCertificateRequest request{*spec, args.days, subject};
    request.backdate_seconds = cfg->backdate_seconds;
    auto cert = create_capf_certificate(key->get(), request);
    if (!cert) return ctx.error(cert.message());
    // The CAPF becoming previous keeps signing the CRL of its LSCs; when its key
    // cannot be kept, nothing is rotated (unless --discard-previous-key).
    std::string kept;
    if (args.force) {
        auto k = keep_previous_capf_key(*cfg, cert->get(), key->get(), args.discard_previous_key);
        if (!k) return ctx.error(k.message());
        kept = std::move(*k);
    }
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
                        {"database", cfg->database_display()},
                        {"subject", facts->subject},
                        {"sha256", facts->sha256},
                        {"not_after", format_utc(facts->not_after)},
                        {"previous_capf_key", kept}});
    } else {
        std::cout << "initialised " << dir.string() << "\n"
                  << "  CAPF certificate  " << cert_path.string() << "\n"
                  << "  CAPF key          " << key_path.string() << " (0600)\n"
                  << "  database          " << cfg->database_display() << " (" << cfg->database_origin << ")\n"
                  << "  config            " << toml_path.string() << "\n"
                  << "  subject           " << facts->subject << "\n"
                  << "  key               " << spec->to_string() << "\n"
                  << "  valid until       " << format_utc(facts->not_after) << "\n"
                  << "  SHA-256           " << facts->sha256 << std::endl;
        if (cfg->database_origin == kDatabaseEnvironment)
            std::cout << "note: the database comes from " << kDatabaseEnvironment
                      << "; lscgate.toml's [store] database is not changed by it (set it there, or keep "
                      << kDatabaseEnvironment << " set for every lscgate command and the service)\n";
        if (!kept.empty()) std::cout << kept << "\n";
        if (!previous_subject.empty())
            std::cout << "rotated: the previous CAPF certificate (" << previous_subject
                      << ") stays trusted as 'previous' so phones can re-key with their old LSC.\n"
                         "next: restart lscgate serve; publish the new CAPF certificate in the phones' ITL/CTL; rebuild "
                         "eap's ca_file with 'lscgate capf bundle -o FILE' and restart FreeRADIUS; re-key the phones "
                         "(lscgate op install ... --auth lsc); then 'lscgate capf retire' the old one\n";
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
    cmd->add_flag("--discard-previous-key", args->discard_previous_key,
                  "with --force: do not keep the replaced CAPF's key for its CRL (it is lost or compromised)");
    cmd->add_flag("--allow-weak-capf", args->allow_weak_capf,
                  "allow a key below rsa:2048 (refused by OpenSSL security level 2: serve and FreeRADIUS fail)");
    cmd->add_flag("--json", ctx.json, "print the result as JSON");
    cmd->callback([&ctx, args] { ctx.exit_code = run_init(ctx, *args); });
}

}  // namespace lscgate::cli
