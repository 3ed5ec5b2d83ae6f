// The RADIUS hot path without a server: one DecisionEngine over a registry of
// 100 000 devices, deciding EAP-TLS attribute sets and VPN user names picked at
// random, with a warm cache (every device decided once before timing). Reports
// p50/p99 per decision as counters (targets: p99 <= 50 us on SQLite, <= 200 us
// on PostgreSQL).
//
//   decision_bench [--backend sqlite|postgresql] [Google Benchmark flags]
//
// postgresql: the registry lives in a throwaway cluster (tests/unit/pg_cluster.h,
// the unit tests' harness) and the engine reads it as the RADIUS role, over TCP.

#include "registry/sqlite_handles.h"
#include "../unit/test_support.h"
#include "../unit/pg_cluster.h"
#include "bench_registry.h"
#include "pki/bytes.h"
#include "pki/certificate.h"
#include "decide/decision_engine.h"
#include "registry/registry_reader.h"

#include <CLI/CLI.hpp>
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

using namespace lscgate;

namespace {

constexpr int kDevices = 100000;
bool g_postgresql = false;  // --backend postgresql

struct Fixture {
    test::TempDir dir;
    std::string database;  // what the engine reads: the SQLite file or the RADIUS role's conninfo
    std::unique_ptr<DecisionEngine> engine;
    std::string issuer_oneline;
    std::string capf_key_id;  // the AKI every LSC carries
    std::vector<std::string> serials;  // lower-case, as FreeRADIUS prints them
    std::vector<std::string> devices;
    std::string not_before = "260101000000Z", not_after = "361231235959Z";

    Fixture() {
        auto capf = test::make_root_ca("CN=CAPF-bench,OU=Voice,O=Example", "rsa:2048");
        const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(capf.cert.get());
        capf_key_id = to_colon_hex(ByteView(ASN1_STRING_get0_data(ski), static_cast<std::size_t>(ASN1_STRING_length(ski))));
        bench::BenchRows rows = bench::make_rows(capf.cert.get(), kDevices);
        issuer_oneline = rows.issuer_oneline;
        devices = rows.devices;
        for (std::string hex : rows.serials) {
            for (auto& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            serials.push_back(std::move(hex));
        }
        auto seeded = g_postgresql ? bench::seed_postgresql(capf.cert.get(), rows)
                                   : bench::seed_sqlite(dir / "lscgate.db", capf.cert.get(), rows);
        if (!seeded) die("seeding the registry: " + seeded.message());
        database = *seeded;
        EngineConfig cfg;
        cfg.database = database;
        auto e = DecisionEngine::create(cfg);
        if (!e) die("DecisionEngine on " + std::string(g_postgresql ? "postgresql" : "sqlite") + ": " + e.message());
        engine = std::move(*e);
        // Warm cache: every device decided once on both paths before anything is timed.
        for (int i = 0; i < kDevices; ++i) {
            (void)engine->decide_vpn(devices[static_cast<std::size_t>(i)], 1800000000);
            (void)engine->decide_eap_tls(text(i), 1800000000);
        }
    }

    CertificateAttributeText text(int i) const {
        const auto k = static_cast<std::size_t>(i);
        return CertificateAttributeText{serials[k], issuer_oneline, {}, devices[k], not_before, not_after, capf_key_id,
                                        "CA:FALSE"};
    }

    [[noreturn]] static void die(const std::string& message) {
        std::fprintf(stderr, "decision_bench: error: %s\n", message.c_str());
        std::exit(1);
    }
};

Fixture& fixture() {
    // As in FreeRADIUS, where rlm_lscgate is SQLite's first user: no global memory statistics.
    // (Refused harmlessly if SQLite is already initialised; the result does not matter.)
    static const int configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    (void)configured;
    static Fixture f;
    return f;
}

void report_percentiles(benchmark::State& state, std::vector<double>& us) {
    if (us.empty()) return;
    std::sort(us.begin(), us.end());
    // Per-thread percentiles, averaged over threads (not summed).
    using C = benchmark::Counter;
    state.counters["p50_us"] = C(us[us.size() / 2], C::kAvgThreads);
    state.counters["p99_us"] = C(us[std::min(us.size() - 1, us.size() * 99 / 100)], C::kAvgThreads);
}

void BM_DecideEapTls(benchmark::State& state) {
    Fixture& f = fixture();
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> pick(0, kDevices - 1);
    std::vector<double> us;
    us.reserve(1 << 20);
    for (auto _ : state) {
        const CertificateAttributeText text = f.text(pick(rng));
        const auto t0 = std::chrono::steady_clock::now();
        Decision d = f.engine->decide_eap_tls(text, 1800000000);
        const auto t1 = std::chrono::steady_clock::now();
        benchmark::DoNotOptimize(d);
        // Only registry answers count: anything else means the benchmark measures a shortcut.
        if (d.cls != CertClass::LscValid && d.cls != CertClass::LscRevoked) state.SkipWithError(d.reason.c_str());
        us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    report_percentiles(state, us);
}

// Timed VPN decisions on `engine` for devices picked at random (seed 9).
void time_vpn_decisions(benchmark::State& state, DecisionEngine& engine) {
    Fixture& f = fixture();
    std::mt19937 rng(9);
    std::uniform_int_distribution<int> pick(0, kDevices - 1);
    std::vector<double> us;
    us.reserve(1 << 20);
    for (auto _ : state) {
        const auto& name = f.devices[static_cast<std::size_t>(pick(rng))];
        const auto t0 = std::chrono::steady_clock::now();
        Decision d = engine.decide_vpn(name, 1800000000);
        const auto t1 = std::chrono::steady_clock::now();
        benchmark::DoNotOptimize(d);
        if (d.cls != CertClass::LscValid && d.cls != CertClass::LscRevoked) state.SkipWithError(d.reason.c_str());
        us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    report_percentiles(state, us);
}

void BM_DecideVpn(benchmark::State& state) { time_vpn_decisions(state, *fixture().engine); }

// PostgreSQL with registry_change_watch = no: the same VPN decisions, each one
// reading the change counter (one round trip) instead of trusting the watch.
void BM_DecideVpnCounterPerRequest(benchmark::State& state) {
    Fixture& f = fixture();
    static std::unique_ptr<DecisionEngine> exact = [&f] {
        EngineConfig cfg;
        cfg.database = f.database;
        cfg.registry_change_watch = false;
        auto e = DecisionEngine::create(cfg);
        if (!e) Fixture::die("DecisionEngine without the change watch: " + e.message());
        for (const auto& name : f.devices) (void)(*e)->decide_vpn(name, 1800000000);
        return std::move(*e);
    }();
    time_vpn_decisions(state, *exact);
}

// The registry part alone: one indexed lookup on an open connection.
void BM_RegistryLookup(benchmark::State& state) {
    Fixture& f = fixture();
    static auto reader = RegistryReader::open(f.database, 4);
    if (!reader) {
        state.SkipWithError(reader.message().c_str());
        return;
    }
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> pick(0, kDevices - 1);
    for (auto _ : state) {
        auto row = (*reader)->current_lsc(f.devices[static_cast<std::size_t>(pick(rng))], 0);
        benchmark::DoNotOptimize(row);
    }
}

}  // namespace

BENCHMARK(BM_RegistryLookup)->Iterations(200000)->UseRealTime();
// One thread and two (issue 9: p99 <= 50 us at 2 threads, FreeRADIUS workers deciding
// in parallel on one engine), whatever the number of cores of the machine.
BENCHMARK(BM_DecideEapTls)->Iterations(200000)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_DecideVpn)->Iterations(200000)->Threads(1)->Threads(2)->UseRealTime();

// --backend is ours; everything else is Google Benchmark's.
int main(int argc, char** argv) {
    CLI::App app{"decision_bench: the RADIUS decision over 100 000 devices"};
    std::string backend = "sqlite";
    app.add_option("--backend", backend, "registry backend")->check(CLI::IsMember({"sqlite", "postgresql"}));
    app.allow_extras();
    CLI11_PARSE(app, argc, argv);
    g_postgresql = backend == "postgresql";
    std::vector<std::string> rest = app.remaining();
    std::vector<char*> args{argv[0]};
    for (auto& a : rest) args.push_back(a.data());
    int nargs = static_cast<int>(args.size());
    benchmark::Initialize(&nargs, args.data());
    if (g_postgresql)
        benchmark::RegisterBenchmark("BM_DecideVpnCounterPerRequest", BM_DecideVpnCounterPerRequest)
            ->Iterations(50000)
            ->Threads(1)
            ->UseRealTime();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    if (g_postgresql) test::PgCluster::shutdown_shared();
    return 0;
}
