#include "capf/server.h"
#include "cli/commands.h"
#include "cli/serve_metrics.h"
#include "cli/systemd_notify.h"

#include <csignal>
#include <iostream>
#include <memory>

namespace lscgate::cli {
namespace {

std::atomic<bool> g_stop{false};

std::atomic<bool> g_refresh_trust{false};

extern "C" void on_stop_signal(int) { g_stop.store(true); }
extern "C" void on_hup_signal(int) { g_refresh_trust.store(true); }

int run_serve(CliContext& ctx, capf::ServeOptions options, const std::string& metrics_listen) {
    auto cfg = ctx.config();
    if (!cfg) return ctx.error(cfg.message());
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    struct sigaction hup {};
    hup.sa_handler = on_hup_signal;
    sigemptyset(&hup.sa_mask);
    sigaction(SIGHUP, &hup, nullptr);
    options.refresh_trust = &g_refresh_trust;
    // A SIGHUP reads lscgate.toml again with the same precedence as at start
    // (--database > LSCGATE_DATABASE > [store] database).
    options.reload_config = [&ctx] { return ctx.config(); };
    SystemdNotifier notifier;
    options.events = &notifier;
    std::unique_ptr<ServeMetrics> metrics;
    if (!metrics_listen.empty()) {
        const std::string database = cfg->database_location();
        auto started = ServeMetrics::start(metrics_listen, [database] { return Store::open(database); });
        if (!started) return ctx.error(started.message());
        metrics = std::move(*started);
        options.observer = metrics.get();
        std::cerr << "metrics on http://" << metrics_listen << "/metrics\n";
    }
    std::signal(SIGPIPE, SIG_IGN);
    if (auto s = capf::serve(*cfg, options, g_stop, std::cerr); !s) return ctx.error(s.message());
    return kExitOk;
}

}  // namespace

void add_serve_command(CLI::App& app, CliContext& ctx) {
    auto* cmd = app.add_subcommand("serve", "Run the CAPF server (TCP 3804, TLS) until SIGTERM; SIGHUP reloads lscgate.toml, the CAPF certificate and key, "
                                      "mic_roots and the trusted CAPF certificates");
    auto options = std::make_shared<capf::ServeOptions>();
    cmd->add_option("--listen", options->listen, "ADDR:PORT, overrides [server] listen");
    cmd->add_option("--tls-min", options->tls_min, "1.0|1.2|1.3, overrides [server] tls_min")
        ->check(CLI::IsMember({"1.0", "1.2", "1.3"}));
    cmd->add_option("--grace", options->grace_seconds, "seconds running sessions get after SIGTERM")
        ->capture_default_str()
        ->check(CLI::Range(0, 3600));
    cmd->add_option("--crl-http", options->crl_http,
                    "ADDR:PORT: serve the CAPF's CRL over HTTP at /capf.crl (for [capf] crl_url, the ASA, FreeRADIUS)");
    auto metrics = std::make_shared<std::string>();
    cmd->add_option("--metrics", *metrics,
                    "ADDR:PORT: Prometheus metrics at /metrics (sessions by result, in progress, enrollment time, "
                    "LSCs by status, CAPF and earliest LSC expiry); keep it on loopback or a management network");
    cmd->callback([&ctx, options, metrics] { ctx.exit_code = run_serve(ctx, *options, *metrics); });
}

}  // namespace lscgate::cli
