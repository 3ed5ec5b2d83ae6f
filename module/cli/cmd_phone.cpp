#include "capf/listen_address.h"
#include "capf/open_files.h"
#include "capf/phone.h"
#include "capf/work_pool.h"
#include "cli/commands.h"
#include "pki/certificate.h"
#include "registry/device_name.h"
#include "pki/keys.h"
#include "pki/trust_set.h"

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>

namespace lscgate::cli {
namespace {

struct PhoneArgs {
    std::string server;
    std::string capf_cert;
    std::string name;
    std::string out;
    std::string auth_string;
    std::string cert, key, mic_cert, mic_key, sudi_cert, sudi_key;
    int count = 1;
    int concurrency = 1;
    int version = 3;
    std::string tls_version;
    std::string fault = "none";
    std::string prefer = "lsc";
    int timeout = 60;
    int keepalives = 0;
    std::vector<double> keygen_delay;  // SECONDS or SECONDS:JITTER (CLI11 splits at ':')
    double keepalive_interval = capf::kDefaultKeepaliveIntervalSeconds;
    double ramp = 0;  // load mode: seconds over which the phones start
};

Result<capf::PhoneIdentity> load_identity(const std::string& cert, const std::string& key, const char* what) {
    if (cert.empty() != key.empty()) return fail(std::string(what) + " needs both the certificate and the key");
    auto c = load_certificate(cert);
    if (!c) return c.error();
    auto k = load_private_key(key);
    if (!k) return k.error();
    if (!same_public_key(X509_get0_pubkey(c->get()), k->get())) return fail(key + " does not belong to " + cert);
    return capf::PhoneIdentity{std::move(*c), std::move(*k)};
}

Result<capf::PhoneOptions> base_options(const PhoneArgs& a) {
    capf::PhoneOptions o;
    o.server = a.server;
    auto capf = load_certificates_from(a.capf_cert);
    if (!capf) return capf.error();
    o.trusted_capf = std::move(*capf);
    o.auth_string = a.auth_string;
    o.out_dir = a.out;
    o.version = a.version;
    o.tls_version = a.tls_version;
    o.timeout_seconds = a.timeout;
    o.prefer_mic = a.prefer == "mic";
    if (a.fault == "drop-after-keygen") o.fault = capf::PhoneFault::DropAfterKeygen;
    else if (a.fault == "refuse-store") o.fault = capf::PhoneFault::RefuseStore;
    else if (a.fault == "wrong-key") o.fault = capf::PhoneFault::WrongKey;
    if (!a.mic_cert.empty() || !a.mic_key.empty()) {
        auto mic = load_identity(a.mic_cert, a.mic_key, "--mic-cert/--mic-key");
        if (!mic) return mic.error();
        o.mic = std::move(*mic);
    }
    if (!a.sudi_cert.empty() || !a.sudi_key.empty()) {
        auto sudi = load_identity(a.sudi_cert, a.sudi_key, "--sudi-cert/--sudi-key");
        if (!sudi) return sudi.error();
        o.sudi = std::move(*sudi);
    }
    if (a.keygen_delay.size() > 2) return fail(ErrorKind::Input, "--keygen-delay is SECONDS or SECONDS:JITTER");
    o.keepalives = a.keepalives;
    o.keygen_delay_seconds = a.keygen_delay.empty() ? 0 : a.keygen_delay[0];
    o.keygen_jitter_seconds = a.keygen_delay.size() == 2 ? a.keygen_delay[1] : 0;
    o.keepalive_interval_seconds = a.keepalive_interval;
    return o;
}

// One load-mode phone: the prototype's settings, sharing its certificates and keys.
capf::PhoneOptions phone_like(const capf::PhoneOptions& proto, const std::string& name) {
    auto copy = [](const std::optional<capf::PhoneIdentity>& id) -> std::optional<capf::PhoneIdentity> {
        if (!id) return std::nullopt;
        return capf::PhoneIdentity{share(id->cert.get()), share(id->key.get())};
    };
    capf::PhoneOptions o;
    o.server = proto.server;
    for (const auto& c : proto.trusted_capf) o.trusted_capf.push_back(share(c.get()));
    o.name = name;
    o.auth_string = proto.auth_string;
    o.mic = copy(proto.mic);
    o.sudi = copy(proto.sudi);
    o.prefer_mic = proto.prefer_mic;
    o.out_dir = proto.out_dir;
    o.version = proto.version;
    o.tls_version = proto.tls_version;
    o.fault = proto.fault;
    o.timeout_seconds = proto.timeout_seconds;
    o.keepalives = proto.keepalives;
    o.keygen_delay_seconds = proto.keygen_delay_seconds;
    o.keygen_jitter_seconds = proto.keygen_jitter_seconds;
    o.keepalive_interval_seconds = proto.keepalive_interval_seconds;
    o.tls_context = proto.tls_context;
    o.sync_files = false;
    return o;
}

// The phone's LSC: --cert/--key when given, else what an earlier run stored in --out.
Status attach_lsc(capf::PhoneOptions& o, const PhoneArgs& a) {
    if (!a.cert.empty() || !a.key.empty()) {
        auto lsc = load_identity(a.cert, a.key, "--cert/--key");
        if (!lsc) return lsc.error();
        o.lsc = std::move(*lsc);
        return {};
    }
    const auto cert = capf::phone_lsc_cert_path(o.out_dir, o.name);
    const auto key = capf::phone_lsc_key_path(o.out_dir, o.name);
    if (std::filesystem::exists(cert) && std::filesystem::exists(key)) {
        auto lsc = load_identity(cert.string(), key.string(), "stored LSC");
        if (!lsc) return lsc.error();
        o.lsc = std::move(*lsc);
    }
    return {};
}

int exit_for(int end_reason) {
    return end_reason == 0 || end_reason == 1 ? kExitOk : kExitRefused;
}

int run_single(CliContext& ctx, const PhoneArgs& a) {
    auto o = base_options(a);
    if (!o) return ctx.error(o.message());
    auto name = normalize_device_name(a.name);
    if (!name) return ctx.error(name.message());
    o->name = *name;
    if (auto s = attach_lsc(*o, a); !s) return ctx.error(s.message());
    auto r = capf::run_phone(*o);
    if (!r) {
        std::cout << o->name << ": session failed: " << r.message() << std::endl;
        return kExitError;
    }
    std::cout << o->name << ": END_SESSION(" << r->end_reason << ") " << r->action
              << (r->detail.empty() ? "" : " " + r->detail) << " keepalives=" << r->keepalives_sent << std::endl;
    if (r->action == "installed")
        std::cout << "  wrote " << capf::phone_lsc_cert_path(o->out_dir, o->name).string() << " and "
                  << capf::phone_lsc_key_path(o->out_dir, o->name).string() << " (0600)" << std::endl;
    return exit_for(r->end_reason);
}

// What a load run counts, on the loop's thread.
struct LoadTally {
    int ok = 0, refused = 0, failed = 0, keepalives = 0;
    double last_enrolled = 0;  // seconds from the start to the last enrolment
    std::string first_error;
};

// Every phone of a load run is a coroutine on one event loop (this thread), with
// a worker pool for key generation and files: --concurrency phones at once, each
// --count one started no sooner than its share of --ramp.
int run_load(CliContext& ctx, const PhoneArgs& a) {
    auto proto = base_options(a);
    if (!proto) return ctx.error(proto.message());
    std::vector<std::string> names;
    auto first = normalize_device_name(a.name);
    if (!first) return ctx.error(first.message());
    for (int i = 0; i < a.count; ++i) {
        auto n = next_sep_name(*first, static_cast<unsigned long long>(i));
        if (!n) return ctx.error(n.message());
        names.push_back(*n);
    }
    auto tls = capf::make_phone_tls_context(*proto);
    if (!tls) return ctx.error(tls.message());
    proto->tls_context = *tls;
    std::string note;
    const auto files = capf::raise_open_file_limit(note);
    if (static_cast<std::uint64_t>(a.concurrency) + 64 > files)
        std::fprintf(stderr, "warning: --concurrency %d with RLIMIT_NOFILE=%llu: some phones will fail to connect\n",
                     a.concurrency, static_cast<unsigned long long>(files));
    asio::io_context loop(1);
    capf::WorkPool pool(capf::default_worker_threads());
    LoadTally tally;
    int next = 0;
    const auto started = std::chrono::steady_clock::now();
    using seconds = std::chrono::duration<double>;
    auto worker = [&]() -> asio::awaitable<void> {
        asio::steady_timer ramp(loop);
        for (int i = next++; i < a.count; i = next++) {
            if (a.ramp > 0) {
                ramp.expires_at(started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                              seconds(a.ramp * i / a.count)));
                co_await ramp.async_wait(asio::use_awaitable);
            }
            const capf::PhoneOptions o = phone_like(*proto, names[static_cast<std::size_t>(i)]);
            auto r = co_await capf::run_phone_async(o, &pool);
            if (r) tally.keepalives += r->keepalives_sent;
            if (r && r->end_reason == 1) {
                ++tally.ok;
                tally.last_enrolled = seconds(std::chrono::steady_clock::now() - started).count();
            } else if (r) {
                ++tally.refused;
            } else {
                ++tally.failed;
                if (tally.first_error.empty()) tally.first_error = o.name + ": " + r.message();
            }
        }
    };
    for (int w = 0; w < std::min(a.concurrency, a.count); ++w)
        asio::co_spawn(loop, worker(), [](const std::exception_ptr& e) {
            if (e) std::rethrow_exception(e);
        });
    loop.run();
    const double secs = seconds(std::chrono::steady_clock::now() - started).count();
    std::printf("phones=%d concurrency=%d succeeded=%d refused=%d failed=%d keepalives=%d seconds=%.3f "
                "last_enrollment_seconds=%.3f enrollments_per_second=%.1f\n",
                a.count, a.concurrency, tally.ok, tally.refused, tally.failed, tally.keepalives, secs,
                tally.last_enrolled, tally.ok / secs);
    if (!tally.first_error.empty()) std::printf("first error: %s\n", tally.first_error.c_str());
    return tally.failed == 0 && tally.refused == 0 ? kExitOk : (tally.failed > 0 ? kExitError : kExitRefused);
}

}  // namespace

void add_phone_command(CLI::App& app, CliContext& ctx) {
    auto a = std::make_shared<PhoneArgs>();
    auto* cmd = app.add_subcommand("phone", "Simulated phone: run one CAPF session (or N with --count)");
    cmd->add_option("--server", a->server, "CAPF server ADDR:PORT")->required();
    cmd->add_option("--capf-cert", a->capf_cert, "CAPF certificate(s) the phone trusts (its ITL's CAPF entry)")
        ->required()
        ->check(CLI::ExistingPath);
    cmd->add_option("--name", a->name, "device name (first name with --count)")->required();
    cmd->add_option("--out", a->out, "directory for the phone's LSC and key")->required();
    cmd->add_option("--auth-string", a->auth_string, "authentication string typed on the phone");
    cmd->add_option("--cert", a->cert, "existing LSC (PEM) to prove possession with");
    cmd->add_option("--key", a->key, "its private key");
    cmd->add_option("--mic-cert", a->mic_cert, "MIC (PEM)");
    cmd->add_option("--mic-key", a->mic_key, "MIC private key");
    cmd->add_option("--prefer", a->prefer, "certificate to present when the phone has both: lsc|mic")
        ->capture_default_str()
        ->check(CLI::IsMember({"lsc", "mic"}));
    cmd->add_option("--count", a->count, "load mode: enroll this many phones, MAC incremented")->check(CLI::Range(1, 1000000));
    cmd->add_option("--concurrency", a->concurrency,
                    "load mode: phones in session at once (coroutines on one event loop)")
        ->check(CLI::Range(1, 1000000));
    cmd->add_option("--ramp", a->ramp,
                    "load mode: start the phones evenly over this many seconds (a fleet after a bulk change)")
        ->check(CLI::Range(0.0, 3600.0));
    cmd->add_option("--version", a->version, "CAPF protocol VERSION to send")->capture_default_str()->check(CLI::Range(1, 255));
    cmd->add_option("--tls-version", a->tls_version, "pin TLS 1.0|1.2|1.3 (default: 1.2 or newer)")
        ->check(CLI::IsMember({"1.0", "1.2", "1.3"}));
    cmd->add_option("--fault", a->fault, "test only: drop-after-keygen | refuse-store | wrong-key")
        ->check(CLI::IsMember({"none", "drop-after-keygen", "refuse-store", "wrong-key"}));
    cmd->add_option("--timeout", a->timeout, "seconds per network step")->capture_default_str()->check(CLI::Range(1, 3600));
    cmd->add_option("--sudi-cert", a->sudi_cert, "SUDI certificate (PEM): send SUDI_DATA in AUTH_RESPONSE")
        ->check(CLI::ExistingFile);
    cmd->add_option("--sudi-key", a->sudi_key, "SUDI private key (PEM; RSA like a real SUDI)")->check(CLI::ExistingFile);
    cmd->add_option("--keepalives", a->keepalives,
                    "REQUEST_IN_PROGRESS sent right after KEY_GENERATE_REQUEST (a phone whose key is ready at once "
                    "sends none; the reference CAPF server accepts at most one)")
        ->capture_default_str()
        ->check(CLI::Range(0, 100));
    cmd->add_option("--keygen-delay", a->keygen_delay,
                    "SECONDS[:JITTER]: act as a slow phone, answering KEY_GENERATE_REQUEST after SECONDS "
                    "(+/- JITTER, drawn per phone) and sending a keep-alive every --keepalive-interval while waiting")
        ->delimiter(':')
        ->expected(1, 2)
        ->check(CLI::Range(0.0, 3600.0));
    cmd->add_option("--keepalive-interval", a->keepalive_interval,
                    "seconds between keep-alives of a slow phone (keep it below the server's reply timeout)")
        ->capture_default_str()
        ->check(CLI::Range(0.1, 3600.0));
    cmd->callback([&ctx, a] {
        std::signal(SIGPIPE, SIG_IGN);
        ctx.exit_code = a->count > 1 || a->concurrency > 1 ? run_load(ctx, *a) : run_single(ctx, *a);
    });
}

}  // namespace lscgate::cli
