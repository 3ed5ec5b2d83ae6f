// The RADIUS hot path without a server: one DecisionEngine over a registry of
// 100 000 devices, deciding EAP-TLS attribute sets and VPN user names picked at
// random. Reports p50/p99 per decision (target p99 <= 50 us), as counters.

#include "registry/sqlite_handles.h"
#include "../unit/test_support.h"
#include "pki/bytes.h"
#include "pki/certificate.h"
#include "decide/decision_engine.h"
#include "registry/registry_reader.h"

#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

using namespace lscgate;

namespace {

constexpr int kDevices = 100000;

struct Fixture {
    test::TempDir dir;
    std::unique_ptr<DecisionEngine> engine;
    std::string issuer_oneline;
    std::string capf_key_id;  // the AKI every LSC carries
    std::vector<std::string> serials;  // lower-case, as FreeRADIUS prints them
    std::vector<std::string> devices;
    std::string not_before = "260101000000Z", not_after = "361231235959Z";

    Fixture() {
        auto capf = test::make_root_ca("CN=CAPF-bench,OU=Voice,O=Example", "rsa:2048");
        {
            Store store = test::make_store(dir / "lscgate.db");
            if (!store.add_capf_certificate(capf.cert.get(), "bench")) std::abort();
            issuer_oneline = describe_certificate(capf.cert.get())->issuer_oneline;
            const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(capf.cert.get());
            capf_key_id = to_colon_hex(ByteView(ASN1_STRING_get0_data(ski), static_cast<std::size_t>(ASN1_STRING_length(ski))));
            auto& db = store.database();
            if (!db.exec("BEGIN")) std::abort();
            auto dev = db.prepare("INSERT INTO devices(name, created_at, updated_at) VALUES(?, 0, 0)");
            auto cert = db.prepare(
                "INSERT INTO certificates(device_name, kind, serial, fingerprint, subject, issuer, issuer_oneline, "
                "not_before, not_after, key_type, key_bits, pem, status, created_at) "
                "VALUES(?, 'lsc', ?, ?, ?, ?, ?, 1767225600, 2114380799, 'ec', 256, '', ?, 0)");
            std::mt19937_64 rng(42);
            for (int i = 0; i < kDevices; ++i) {
                char name[16];
                std::snprintf(name, sizeof name, "SEP%012X", 0x100000 + i);
                unsigned char serial[16];
                for (auto& b : serial) b = static_cast<unsigned char>(rng());
                serial[0] |= 0x10;
                const std::string hex = to_hex(ByteView(serial, sizeof serial));
                dev->bind(1, name);
                if (!dev->run()) std::abort();
                cert->bind(1, name).bind(2, hex).bind(3, sha256_hex(ByteView(serial, sizeof serial))).bind(4, std::string("CN=") + name)
                    .bind(5, "CN=CAPF-bench,OU=Voice,O=Example").bind(6, issuer_oneline)
                    .bind(7, i % 10 == 0 ? "revoked" : "active");
                if (!cert->run()) std::abort();
                std::string lower = hex;
                for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                serials.push_back(lower);
                devices.push_back(name);
            }
            if (!db.exec("COMMIT")) std::abort();
        }
        EngineConfig cfg;
        cfg.database = dir / "lscgate.db";
        auto e = DecisionEngine::create(cfg);
        if (!e) {
            std::fprintf(stderr, "%s\n", e.message().c_str());
            std::abort();
        }
        engine = std::move(*e);
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
        const int i = pick(rng);
        const CertificateAttributeText text{f.serials[static_cast<std::size_t>(i)], f.issuer_oneline, {},
                                            f.devices[static_cast<std::size_t>(i)], f.not_before, f.not_after,
                                            f.capf_key_id, "CA:FALSE"};
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

void BM_DecideVpn(benchmark::State& state) {
    Fixture& f = fixture();
    std::mt19937 rng(9);
    std::uniform_int_distribution<int> pick(0, kDevices - 1);
    std::vector<double> us;
    us.reserve(1 << 20);
    for (auto _ : state) {
        const auto& name = f.devices[static_cast<std::size_t>(pick(rng))];
        const auto t0 = std::chrono::steady_clock::now();
        Decision d = f.engine->decide_vpn(name, 1800000000);
        const auto t1 = std::chrono::steady_clock::now();
        benchmark::DoNotOptimize(d);
        if (d.cls != CertClass::LscValid && d.cls != CertClass::LscRevoked) state.SkipWithError(d.reason.c_str());
        us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    report_percentiles(state, us);
}

// The registry part alone: one indexed lookup on an open connection.
void BM_RegistryLookup(benchmark::State& state) {
    Fixture& f = fixture();
    static auto reader = RegistryReader::open((f.dir / "lscgate.db").string(), 4);
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
// One thread, and as many as the machine has cores (FreeRADIUS workers in parallel).
BENCHMARK(BM_DecideEapTls)->Iterations(200000)->Threads(1)->ThreadPerCpu()->UseRealTime();
BENCHMARK(BM_DecideVpn)->Iterations(200000)->Threads(1)->ThreadPerCpu()->UseRealTime();
BENCHMARK_MAIN();
