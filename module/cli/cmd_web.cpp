// `lscgate web [--listen HOST:PORT]`: the administration pages over HTTPS
// (issue 14; module/web). Runs until SIGTERM or SIGINT. The CLI supplies what
// the pages cannot do themselves (module/web depends on fleet, registry and pki
// only): after a revocation the CRL renewal (renew_crl, as `lscgate revoke`)
// and with [coa] on_revoke the CoA (cli/revoke_coa.h, as `lscgate revoke`);
// the doctor page and the device's doctor findings (cli/doctor_checks.h, which
// reads the CAPF session causes of module/capf, out of the pages' reach).

#include "cli/commands.h"
#include "cli/doctor_checks.h"
#include "cli/revoke_coa.h"
#include "registry/device_name.h"
#include "web/http_policy.h"
#include "web/templates.h"
#include "web/web_app.h"
#include "web/web_identity.h"
#include "web/web_server.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

namespace lscgate::cli {
namespace {

// With [coa] on_revoke: the CoA to each switch the phone was last seen through,
// as `lscgate revoke` sends it (cli/revoke_coa.h), each answer as a line.
void coa_after_revoke(const Config& cfg, const std::string& device, std::vector<std::string>& lines) {
    if (!cfg.coa_on_revoke) return;
    const RevokeCoaResult coa = send_revoke_coa(cfg, device, {}, now_utc());
    if (coa.error) {
        lines.push_back("No CoA was sent ([coa] on_revoke): " + coa.error->message);
        return;
    }
    for (const auto& l : coa.lines) lines.push_back(l);
}

// After a revocation: the CRL renewed here (the CLI holds the CAPF key), then the
// CoA when [coa] on_revoke says so; their outcomes as lines for the result page.
web::WebHooks revoke_hooks(CliContext& ctx, std::shared_ptr<std::mutex> crl_mutex) {
    web::WebHooks hooks;
    hooks.after_revoke = [&ctx, crl_mutex](const CertificateRecord& revoked, const std::string&) {
        std::vector<std::string> lines;
        {
            std::lock_guard lock(*crl_mutex);  // one renewal at a time: one CRL file
            auto crl = renew_crl(ctx, false);
            if (!crl) {
                lines.push_back("The CRL was not renewed (" + crl.message() +
                                "): lscgate serve renews it within [crl] refresh seconds, or run lscgate crl.");
            } else {
                lines.push_back("CRL " + std::to_string(crl->number) + " with " + std::to_string(crl->entries) +
                                " entries, next update " + format_utc(crl->next_update) + ".");
                for (const auto& u : crl->unpublished) lines.push_back("Warning: " + u);
            }
        }
        auto cfg = ctx.config();
        if (cfg) coa_after_revoke(*cfg, revoked.device_name, lines);
        return lines;
    };
    return hooks;
}

// /doctor: the checks of `lscgate doctor` (the CAPF certificate, `serve` on
// [server] listen, and with ?device= one phone) for every account: running
// doctor reads, it changes nothing, so helpdesk may (audited web.doctor).
web::NavPage doctor_page(CliContext& ctx) {
    return {"/doctor", "Doctor", [&ctx](web::WebApp& app, const web::PageContext& page) -> Result<web::PageBody> {
                const std::string device = page.request.param("device");
                auto cfg = ctx.config();
                if (!cfg) return cfg.error();
                doctor::Report report;
                doctor::check_capf_certificate(*cfg, page.now, report);
                doctor::check_serve(*cfg, report);
                if (!device.empty()) doctor::check_device(*cfg, device, {}, page.now, report);
                // The audit's device column holds device names only: a query string that is
                // not one (anyone signed in can type it) is recorded as refused, not verbatim.
                const auto named = normalize_device_name(device);
                const std::string audited_device = device.empty() || !named ? std::string() : *named;
                const std::string detail = device.empty() || named ? std::string() : "device name refused";
                auto audited = app.with_store(
                    [&](Store& s) { return s.audit(page.actor(), "web.doctor", audited_device, detail); });
                if (!audited) app.log("web: cannot audit a doctor run: " + audited.message());
                web::TemplateList findings;
                for (const auto& f : report.findings())
                    findings.push_back(web::TemplateObject{{"check", f.check},
                                                           {"severity", std::string(doctor::to_string(f.severity))},
                                                           {"symptom", f.symptom},
                                                           {"cause", f.cause},
                                                           {"fix", f.fix}});
                static const char* kSummary[] = {"Nothing wrong found.", "Warnings found.", "Failures found."};
                web::TemplateData data;
                data.set("device", device);
                data.set("findings", findings);
                data.set("summary", kSummary[std::clamp(report.exit_code(), 0, 2)]);
                return web::PageBody{"Doctor", "doctor", data, 200};
            }};
}

// The doctor findings of one phone on its device page: `lscgate doctor --device`
// (registry, lockout, its operation, sessions and causes, what RADIUS last saw).
// Viewing a page reads: not audited, unlike a run of the doctor page.
web::DevicePanel doctor_panel(CliContext& ctx, std::string last_seen_file) {
    return {"Doctor", [&ctx, last_seen_file](web::WebApp&, const web::PageContext& page,
                                             const Device& device) -> Result<std::string> {
                auto cfg = ctx.config();
                if (!cfg) return cfg.error();
                doctor::Report report;
                doctor::check_device(*cfg, device.name, {last_seen_file, ""}, page.now, report);
                web::TemplateList findings;
                for (const auto& f : report.findings())
                    findings.push_back(web::TemplateObject{{"check", f.check},
                                                           {"severity", std::string(doctor::to_string(f.severity))},
                                                           {"symptom", f.symptom},
                                                           {"cause", f.cause},
                                                           {"fix", f.fix}});
                web::TemplateData data;
                data.set("findings", findings);
                data.set("name", device.name);
                return web::render_template("doctor_panel", data);
            }};
}

// What the pages read of last-seen: the PostgreSQL registry, else the file of
// [web] last_seen, else that of [coa] last_seen.
LastSeenSource last_seen_source(const Config& cfg) {
    LastSeenSource source{cfg.database_location(), {}};
    const auto file = !cfg.web.last_seen.empty() ? cfg.web.last_seen : cfg.coa_last_seen;
    if (!file.empty()) source.files.push_back(cfg.resolve(file).string());
    return source;
}

// Blocks SIGINT and SIGTERM in this thread and every thread started after it
// (httplib's pool), so only sigwait() below receives them.
sigset_t termination_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    return set;
}

int run_web(CliContext& ctx, const std::string& listen_option) {
    auto cfg = ctx.config();
    if (!cfg) return ctx.error(cfg.message());
    auto listen = web::parse_listen_address(listen_option.empty() ? cfg->web.listen : listen_option);
    if (!listen) return ctx.error(listen.message());
    if (auto s = web::check_listen_allowed(*listen, cfg->web.allow_remote); !s) return ctx.error(s.message());
    if (auto s = web::check_templates(); !s) return ctx.error(s.message());
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    bool any_account = false;
    if (auto s = store->each_web_account([&](const WebAccount&) -> Status {
            any_account = true;
            return {};
        });
        !s)
        return ctx.error(s.message());
    auto identity = web::load_web_identity(*cfg, *listen, now_utc());
    if (!identity) return ctx.error(identity.message());

    auto out = std::make_shared<std::mutex>();
    web::WebOptions options;
    options.last_seen = last_seen_source(*cfg);
    options.sessions = {cfg->web.session_idle_s, cfg->web.session_absolute_s};
    options.lockout = {cfg->web.lockout_failures, cfg->web.lockout_seconds};
    options.log = [out](const std::string& line) {
        std::lock_guard lock(*out);
        std::cout << line << std::endl;
    };
    web::WebApp app(std::move(*store), options, revoke_hooks(ctx, std::make_shared<std::mutex>()));
    app.add_page(doctor_page(ctx));
    app.add_device_panel(doctor_panel(ctx, options.last_seen.files.empty() ? "" : options.last_seen.files.front()));

    // A browser that closes mid-answer must not kill the server (SSL_write → EPIPE).
    ::signal(SIGPIPE, SIG_IGN);
    const sigset_t signals = termination_signals();
    auto server = web::WebServer::bind(app, *identity, *listen);
    if (!server) return ctx.error(server.message());
    options.log("web listening on https://" + listen->text() + " (certificate " + identity->origin + ")");
    if (!any_account) options.log("web: no account yet: add one with 'lscgate admin add NAME --role admin'");

    Status ran;
    std::thread runner([&] {
        ran = (*server)->run();
        ::kill(::getpid(), SIGTERM);  // a listener that failed wakes sigwait below
    });
    int signal = 0;
    sigwait(&signals, &signal);
    (*server)->stop();
    runner.join();
    if (!ran) return ctx.error(ran.message());
    options.log("web stopped");
    return kExitOk;
}

}  // namespace

void add_web_command(CLI::App& app, CliContext& ctx) {
    auto listen = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand("web", "Serve the administration pages over HTTPS ([web] in lscgate.toml) until SIGTERM");
    cmd->add_option("--listen", *listen, "HOST:PORT; default [web] listen (127.0.0.1:8443); non-loopback needs "
                                         "[web] allow_remote = true");
    cmd->callback([&ctx, listen] { ctx.exit_code = run_web(ctx, *listen); });
}

}  // namespace lscgate::cli
