// `lscgate crl`: renews the CAPFs' CRLs when due (the current CAPF's in [crl]
// file, each previous CAPF's beside it) and writes a copy of the current one in
// DER or PEM (capf/crl_scope.h says what each lists, capf/crl_publisher.h when
// it is due). A previous CAPF whose CRL cannot be signed is a warning naming
// the revocations left out; a current CAPF that cannot sign CRLs is an error.

#include "capf/crl_publisher.h"
#include "cli/commands.h"
#include "pki/secure_file.h"

#include <memory>

namespace lscgate::cli {

namespace {

CrlSummary summary_of(capf::PublishedCrl& crl) {
    return CrlSummary{crl.renewed,       crl.facts.number, crl.facts.entries.size(), crl.facts.this_update,
                      crl.facts.next_update, crl.file.string(), std::move(crl.der), crl.label, {}, {}};
}

}  // namespace

Result<CrlSummary> renew_crl(CliContext& ctx, bool force) {
    auto cfg = ctx.config();
    if (!cfg) return cfg.error();
    auto capf = CapfAuthority::load(cfg->resolve(cfg->capf_cert), cfg->resolve(cfg->capf_key), cfg->resolve(cfg->capf_chain));
    if (!capf) return capf.error();
    auto store = ctx.store();
    if (!store) return store.error();
    const auto settings = capf::crl_settings(*cfg);
    auto outcome = capf::refresh_crl(*store, *capf, settings, now_utc(), force);
    if (!outcome) return outcome.error();
    CrlSummary out = summary_of(outcome->crls.front());
    for (std::size_t i = 1; i < outcome->crls.size(); ++i) out.previous.push_back(summary_of(outcome->crls[i]));
    out.unpublished = std::move(outcome->unpublished);
    return out;
}

namespace {

struct CrlOptions {
    std::string out;
    bool pem = false;
    bool der = false;
    bool force = false;
};

nlohmann::json crl_json(const CrlSummary& crl) {
    return {{"file", crl.file},
            {"capf", crl.capf},
            {"renewed", crl.renewed},
            {"number", crl.number},
            {"entries", crl.entries},
            {"this_update", format_utc(crl.this_update)},
            {"next_update", format_utc(crl.next_update)}};
}

void print_crl_line(const CrlSummary& crl) {
    std::cout << "CRL " << crl.file << (crl.renewed ? " renewed" : " current") << ": number " << crl.number << ", "
              << crl.entries << " entries, this update " << format_utc(crl.this_update) << ", next update "
              << format_utc(crl.next_update) << " (" << crl.capf << ")" << std::endl;
}

int run_crl(CliContext& ctx, const CrlOptions& o) {
    auto crl = renew_crl(ctx, o.force);
    if (!crl) return ctx.error(crl.message());
    for (const auto& line : crl->unpublished) std::cerr << "lscgate: warning: " << line << std::endl;
    if (!o.out.empty()) {
        std::string bytes = crl->der;
        if (o.pem) {
            auto parsed = parse_crl(crl->der);
            if (!parsed) return ctx.error(parsed.message());
            auto pem = crl_pem(parsed->get());
            if (!pem) return ctx.error(pem.message());
            bytes = std::move(*pem);
        }
        if (o.out == "-") {
            std::cout << bytes << std::flush;
            return kExitOk;  // stdout is the CRL: no summary on it
        }
        if (auto s = write_file_atomically(o.out, bytes, FileMode::Public); !s) return ctx.error(o.out + ": " + s.message());
    }
    if (ctx.json) {
        nlohmann::json j = crl_json(*crl);
        j["previous"] = nlohmann::json::array();
        for (const auto& p : crl->previous) j["previous"].push_back(crl_json(p));
        j["unpublished"] = crl->unpublished;
        ctx.print_json(j);
    } else {
        print_crl_line(*crl);
        for (const auto& p : crl->previous) print_crl_line(p);
    }
    return kExitOk;
}

}  // namespace

void add_crl_command(CLI::App& app, CliContext& ctx) {
    auto* cmd = app.add_subcommand(
        "crl", "Renew the CAPF's CRL ([crl] file) when due and print it; --out writes a copy (DER, or PEM with --pem)");
    auto o = std::make_shared<CrlOptions>();
    cmd->add_option("--out", o->out, "also write the CRL to FILE ('-': standard output)");
    auto* pem = cmd->add_flag("--pem", o->pem, "--out in PEM (-----BEGIN X509 CRL-----)");
    auto* der = cmd->add_flag("--der", o->der, "--out in DER (the default; what HTTP distribution points serve)");
    pem->excludes(der);
    cmd->add_flag("--force", o->force, "renew even when the current CRL is not due");
    cmd->add_flag("--json", ctx.json, "print as JSON");
    cmd->callback([&ctx, o] { ctx.exit_code = run_crl(ctx, *o); });
}

}  // namespace lscgate::cli
