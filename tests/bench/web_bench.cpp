// The server time of the web pages' device list (issue 14) over a registry of
// 100 000 devices (bench_registry.h: each with an LSC, every tenth revoked):
// WebApp::handle from request to rendered HTML, without TLS and the network, so
// the figure is the registry query plus the template. Keyset pagination keeps a
// deep page as cheap as the first; a search that matches nothing walks the name
// index to its end (the worst case); the dashboard counts every device; the LSC
// report reads every device's row (its first 500 shown); a bulk preview checks a
// file of 1 000 names against the registry.
//
//   web_bench [--devices N] [Google Benchmark flags]     (default 100 000, SQLite)

#include "../unit/test_support.h"
#include "bench_registry.h"
#include "web/http_policy.h"
#include "web/password_hash.h"
#include "web/web_app.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <regex>
#include <string>

using namespace lscgate;

namespace {

int g_devices = 100000;

[[noreturn]] void die(const std::string& why) {
    std::fprintf(stderr, "web_bench: %s\n", why.c_str());
    std::exit(1);
}

struct Fixture {
    test::TempDir dir;
    std::unique_ptr<web::WebApp> app;
    std::string cookie;
    std::string csrf;
    std::string last_name;
    std::string bulk_file;  // 1 000 registered names, one per line

    Fixture() {
        auto capf = test::make_root_ca("CN=CAPF-web-bench,OU=Voice,O=Example", "rsa:2048");
        bench::BenchRows rows = bench::make_rows(capf.cert.get(), g_devices);
        last_name = rows.devices.back();
        auto seeded = bench::seed_sqlite(dir / "lscgate.db", capf.cert.get(), rows);
        if (!seeded) die("seeding: " + seeded.message());
        auto store = Store::open(*seeded);
        if (!store) die(store.message());
        auto hash = web::hash_password("bench password 1", web::Argon2Params{8 * 1024, 1, 1});
        if (!hash || !store->add_web_account("bench", WebRole::Helpdesk, *hash, "bench")) die("cannot add the account");
        app = std::make_unique<web::WebApp>(std::move(*store), web::WebOptions{});
        for (std::size_t i = 0; i < rows.devices.size() && i < 1000; ++i) bulk_file += rows.devices[i] + "\n";
        sign_in();
    }

    void sign_in() {
        const UnixTime now = now_utc();
        auto form = app->handle({"GET", "/login", {}, "", "127.0.0.1"}, now);
        std::smatch m;
        if (!std::regex_search(form.body, m, std::regex("name=\"csrf\" value=\"([0-9a-f]{64})\"")))
            die("no sign-in form");
        const std::string login_cookie = form.set_cookies.at(0).substr(0, form.set_cookies.at(0).find(';'));
        auto in = app->handle({"POST", "/login", {{"name", "bench"}, {"password", "bench password 1"}, {"csrf", m[1]}},
                               login_cookie, "127.0.0.1"},
                              now);
        if (in.status != 303 || in.set_cookies.empty()) die("sign-in failed: " + std::to_string(in.status));
        cookie = in.set_cookies[0].substr(0, in.set_cookies[0].find(';'));
        auto home = app->handle({"GET", "/", {}, cookie, "127.0.0.1"}, now);
        if (!std::regex_search(home.body, m, std::regex("name=\"csrf\" value=\"([0-9a-f]{64})\"")))
            die("no CSRF token on the dashboard");
        csrf = m[1];
    }
};

Fixture& fixture() {
    static Fixture f;
    return f;
}

void page(benchmark::State& state, const std::string& path, std::map<std::string, std::string> params,
          const char* method = "GET") {
    Fixture& f = fixture();
    const web::WebRequest request{method, path, std::move(params), f.cookie, "127.0.0.1"};
    std::size_t bytes = 0;
    for (auto _ : state) {
        auto r = f.app->handle(request, now_utc());
        if (r.status != 200) {
            state.SkipWithError(("status " + std::to_string(r.status)).c_str());
            break;
        }
        bytes = r.body.size();
        benchmark::DoNotOptimize(r.body.data());
    }
    state.counters["html_bytes"] = static_cast<double>(bytes);
}

void BM_DevicesFirstPage(benchmark::State& s) { page(s, "/devices", {}); }
void BM_DevicesDeepPage(benchmark::State& s) {
    char after[16];
    std::snprintf(after, sizeof after, "SEP%012X", 0x100000 + g_devices * 95 / 100);
    page(s, "/devices", {{"after", after}});
}
void BM_DevicesLastPageBackwards(benchmark::State& s) { page(s, "/devices", {{"before", "SEPFFFFFFFFFFFF"}}); }
void BM_DevicesSearchName(benchmark::State& s) { page(s, "/devices", {{"q", "11869"}}); }
void BM_DevicesFilterRevoked(benchmark::State& s) { page(s, "/devices", {{"lsc", "revoked"}}); }
void BM_DevicesSearchNoMatch(benchmark::State& s) { page(s, "/devices", {{"q", "NOSUCHNAME"}}); }
void BM_DevicePage(benchmark::State& s) { page(s, "/device", {{"name", fixture().last_name}}); }
void BM_Dashboard(benchmark::State& s) { page(s, "/", {}); }
void BM_ReportLsc(benchmark::State& s) { page(s, "/reports", {{"report", "lsc"}}); }
void BM_BulkPreview1000(benchmark::State& s) {
    page(s, "/bulk/preview",
         {{"csrf", fixture().csrf}, {"text", fixture().bulk_file}, {"operation", "install"}, {"auth", "null"},
          {"key", "rsa:2048"}},
         "POST");
}

}  // namespace

int main(int argc, char** argv) {
    // --devices N is ours; everything else is Google Benchmark's.
    std::vector<char*> rest;
    for (int i = 0; i < argc; ++i) {
        if (i + 1 < argc && std::strcmp(argv[i], "--devices") == 0) {
            g_devices = std::atoi(argv[++i]);
            if (g_devices < 1) die("--devices wants a positive number");
            continue;
        }
        rest.push_back(argv[i]);
    }
    int nargs = static_cast<int>(rest.size());
    benchmark::Initialize(&nargs, rest.data());
    for (auto [name, fn] : {std::pair{"BM_DevicesFirstPage", &BM_DevicesFirstPage},
                            std::pair{"BM_DevicesDeepPage", &BM_DevicesDeepPage},
                            std::pair{"BM_DevicesLastPageBackwards", &BM_DevicesLastPageBackwards},
                            std::pair{"BM_DevicesSearchName", &BM_DevicesSearchName},
                            std::pair{"BM_DevicesFilterRevoked", &BM_DevicesFilterRevoked},
                            std::pair{"BM_DevicesSearchNoMatch", &BM_DevicesSearchNoMatch},
                            std::pair{"BM_DevicePage", &BM_DevicePage}, std::pair{"BM_Dashboard", &BM_Dashboard},
                            std::pair{"BM_ReportLsc", &BM_ReportLsc}, std::pair{"BM_BulkPreview1000", &BM_BulkPreview1000}})
        benchmark::RegisterBenchmark(name, fn)->Unit(benchmark::kMillisecond);
    fixture();  // seeded before any timing
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
