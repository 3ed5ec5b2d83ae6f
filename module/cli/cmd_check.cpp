// `lscgate check [--warn 30d] [--crit 7d] [--json]`: a monitoring plugin over the
// expiry of the CAPF certificate(s), every active LSC, the MIC roots and the
// nextUpdate of the published CRLs (fleet/expiry_check.h). Exit codes follow the monitoring-plugin guidelines
// (Nagios plugin guidelines, "Plugin Return Codes"): 0 OK, 1 WARNING,
// 2 CRITICAL, 3 UNKNOWN when the check cannot be made; one summary line on stdout.

#include "capf/crl_publisher.h"
#include "cli/commands.h"
#include "pki/secure_file.h"
#include "fleet/expiry_check.h"
#include "pki/certificate.h"
#include "pki/expiry.h"
#include "pki/trust_set.h"

#include <filesystem>
#include <set>

namespace lscgate::cli {
namespace {

constexpr int kExitUnknown = 3;

struct CheckArgs {
    std::string warn = "30d";
    std::string crit = "7d";
};

// The CAPF certificates phones and RADIUS depend on: the one `serve` presents,
// the registry's current and previous ones, and the chain sent in the handshake;
// then the MIC roots. Each once (by SHA-256).
Result<std::vector<RoleCertificate>> certificates_to_check(const Config& cfg, Store& store) {
    std::vector<RoleCertificate> out;
    std::set<std::string> seen;
    auto add = [&](const std::string& role, const X509* cert) -> Status {
        auto facts = describe_certificate(cert);
        if (!facts) return facts.error();
        if (seen.insert(facts->sha256).second) out.push_back({role, std::move(*facts)});
        return {};
    };
    auto own = load_certificate(cfg.resolve(cfg.capf_cert));
    if (!own) return fail(own.kind(), "[capf] cert: " + own.message());
    if (auto s = add("CAPF current", own->get()); !s) return s.error();
    auto registry = store.list_capf_certificates();
    if (!registry) return registry.error();
    for (const auto& r : *registry) {
        if (r.status == CapfStatus::Retired || !seen.insert(r.facts.sha256).second) continue;
        out.push_back({r.status == CapfStatus::Current ? "CAPF current" : "CAPF previous", r.facts});
    }
    std::error_code ec;
    if (const auto chain = cfg.resolve(cfg.capf_chain); std::filesystem::exists(chain, ec)) {
        auto certs = load_certificates_from(chain);
        if (!certs) return fail(certs.kind(), "[capf] chain: " + certs.message());
        for (const auto& c : *certs)
            if (auto s = add("CAPF chain", c.get()); !s) return s.error();
    }
    if (!cfg.mic_roots.empty()) {
        auto roots = load_certificates_from(cfg.resolve(cfg.mic_roots));
        if (!roots) return fail(roots.kind(), "[auth] mic_roots: " + roots.message());
        for (const auto& c : *roots)
            if (auto s = add("MIC root", c.get()); !s) return s.error();
    }
    return out;
}

// The CRLs lscgate publishes here ([crl] file, and each non-retired previous
// CAPF's beside it), those that exist: a CRL that was never made is no
// expiry. A file that is not a readable CRL is returned with its problem
// (graded CRITICAL, so it never hides behind UNKNOWN). Errors: the registry's.
Result<std::vector<CrlToCheck>> crls_to_check(const Config& cfg, Store& store, const std::string& own_sha256) {
    const auto settings = capf::crl_settings(cfg);
    std::vector<std::filesystem::path> files{settings.file};
    auto registry = store.list_capf_certificates();
    if (!registry) return registry.error();
    for (const auto& r : *registry)
        if (r.status != CapfStatus::Retired && r.facts.sha256 != own_sha256)
            files.push_back(capf::previous_crl_file(settings, r.facts));
    std::vector<CrlToCheck> out;
    for (const auto& file : files) {
        std::error_code ec;
        if (!std::filesystem::exists(file, ec)) continue;
        auto bytes = read_text_file(file);
        auto crl = bytes ? parse_crl(*bytes) : Result<X509CrlPtr>(bytes.error());
        auto facts = crl ? describe_crl(crl->get()) : Result<CrlFacts>(crl.error());
        if (!facts) {
            out.push_back({file.string(), {}, facts.message()});
            continue;
        }
        out.push_back({file.string(), std::move(*facts), ""});
    }
    return out;
}

nlohmann::json item_json(const ExpiryItem& i, UnixTime now) {
    return {{"role", i.role},
            {"name", i.name},
            {"serial", i.serial},
            {"not_after", format_utc(i.not_after)},
            {"days_left", days_left(i.not_after, now)},
            {"status", std::string(to_string(i.level))},
            {"problem", i.problem.empty() ? nlohmann::json(nullptr) : nlohmann::json(i.problem)}};
}

nlohmann::json check_json(const ExpiryCheck& c, const std::string& summary, UnixTime now, const ExpiryThresholds& t) {
    nlohmann::json j = {{"status", std::string(to_string(c.level))},
                        {"exit_code", static_cast<int>(c.level)},
                        {"summary", summary},
                        {"checked_at", format_utc(now)},
                        {"warn_days", t.warn_seconds / 86400},
                        {"crit_days", t.crit_seconds / 86400}};
    j["capf"] = nlohmann::json::array();
    for (const auto& i : c.capf) j["capf"].push_back(item_json(i, now));
    j["crl"] = nlohmann::json::array();
    for (const auto& i : c.crls) j["crl"].push_back(item_json(i, now));
    j["mic_roots"] = nlohmann::json::array();
    for (const auto& i : c.mic_roots) j["mic_roots"].push_back(item_json(i, now));
    nlohmann::json flagged = nlohmann::json::array();
    for (const auto& i : c.lscs_flagged) flagged.push_back(item_json(i, now));
    j["lsc"] = {{"active", c.active_lscs},
                {"flagged", flagged},
                {"earliest", c.earliest_lsc ? item_json(*c.earliest_lsc, now) : nlohmann::json(nullptr)}};
    return j;
}

int unknown(const std::string& why) {
    std::cout << "LSCGATE UNKNOWN - " << why << std::endl;
    return kExitUnknown;
}

int run_check(CliContext& ctx, const CheckArgs& args) {
    auto warn = parse_duration_text(args.warn);
    if (!warn) return unknown("--warn: " + warn.message());
    auto crit = parse_duration_text(args.crit);
    if (!crit) return unknown("--crit: " + crit.message());
    if (*crit > *warn) return unknown("--crit " + args.crit + " is longer than --warn " + args.warn);
    const ExpiryThresholds thresholds{*warn, *crit};
    auto cfg = ctx.config();
    if (!cfg) return unknown(cfg.message());
    auto store = ctx.store();
    if (!store) return unknown(store.message());
    auto cas = certificates_to_check(*cfg, *store);
    if (!cas) return unknown(cas.message());
    auto crls = crls_to_check(*cfg, *store, cas->front().facts.sha256);
    if (!crls) return unknown(crls.message());
    const UnixTime now = now_utc();
    auto checked = check_expiry(*store, *cas, now, thresholds, *crls);
    if (!checked) return unknown(checked.message());
    const std::string summary = checked->summary(now, thresholds);
    if (ctx.json) ctx.print_json(check_json(*checked, summary, now, thresholds));
    else std::cout << summary << std::endl;
    return static_cast<int>(checked->level);
}

}  // namespace

void add_check_command(CLI::App& app, CliContext& ctx) {
    auto args = std::make_shared<CheckArgs>();
    auto* cmd = app.add_subcommand(
        "check", "Monitoring plugin: expiry of the CAPF certificate(s), every active LSC, the MIC roots and the CRLs' nextUpdate "
                 "(exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)");
    cmd->add_option("--warn", args->warn, "WARNING when something expires within this span (30d, 12h, 2w)")
        ->capture_default_str();
    cmd->add_option("--crit", args->crit, "CRITICAL when something expires within this span")->capture_default_str();
    cmd->add_flag("--json", ctx.json, "details as JSON (same exit code)");
    cmd->callback([&ctx, args] { ctx.exit_code = run_check(ctx, *args); });
}

}  // namespace lscgate::cli
