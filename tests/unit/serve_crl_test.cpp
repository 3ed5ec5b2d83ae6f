// `lscgate serve` and its CRLs (issue 12 review), run in-process on loopback
// with real files, a real SQLite registry and real HTTP:
// - a SIGHUP that rotates the CAPF (a new capf.crt/capf.key, as `lscgate init
//   --force` or `capf import` leave them) moves the CRL service to the new
//   CAPF: /capf.crl is signed by it from the reload on;
// - a CAPF whose keyUsage lacks cRLSign is flagged (serve --crl-http refuses to
//   start, plain serve logs why);
// - the CRL service's log lines go through the server's one log: a line is
//   never written while another thread is inside one.

#include "capf/server.h"
#include "pki/crl.h"
#include "pki/keys.h"
#include "pki/secure_file.h"
#include "registry/config.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <openssl/x509v3.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <ostream>
#include <regex>
#include <streambuf>
#include <thread>

using namespace lscgate;
using lscgate::test::TempDir;
using namespace std::chrono_literals;

namespace {

// "/capf-<first 16 hex digits of the SHA-256>.crl": a CAPF's CRL under its own name.
std::string own_crl_path(const X509* capf) { return "/capf-" + describe_certificate(capf)->sha256.substr(0, 16) + ".crl"; }

// The serve log as a stream that watches its writers. A line is open from its
// first character to its '\n'; a write from another thread while a line is
// open, or two writes at once, is an interleaving. arm() makes the next line's
// first write wait (at most `hold`) inside the stream for another thread to
// write: with one log mutex that never happens (the other thread waits for the
// mutex), without it the other thread's line lands inside the held one.
class WatchedLog : public std::streambuf {
public:
    void arm(std::chrono::milliseconds hold) {
        std::lock_guard lock(m_);
        armed_ = true;
        hold_ = hold;
    }
    bool interleaved() const {
        std::lock_guard lock(m_);
        return interleaved_;
    }
    std::string text() const {
        std::lock_guard lock(m_);
        return text_;
    }
    // Waits (bounded: a loaded CI machine, not a delay) until `count` lines contain `needle`.
    bool wait_for(const std::string& needle, int count = 1, std::chrono::seconds limit = 30s) {
        std::unique_lock lock(m_);
        return cv_.wait_for(lock, limit, [&] { return occurrences(needle) >= count; });
    }

protected:
    int overflow(int ch) override {
        if (ch == traits_type::eof()) return traits_type::not_eof(ch);
        const char c = static_cast<char>(ch);
        write(&c, 1);
        return ch;
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        write(s, static_cast<std::size_t>(n));
        return n;
    }

private:
    int occurrences(const std::string& needle) const {
        int n = 0;
        for (auto at = text_.find(needle); at != std::string::npos; at = text_.find(needle, at + 1)) ++n;
        return n;
    }
    void write(const char* s, std::size_t n) {
        std::unique_lock lock(m_);
        const auto me = std::this_thread::get_id();
        if (++inside_ > 1 || (line_open_ && owner_ != me)) interleaved_ = true;
        const bool hold = armed_ && !line_open_;
        if (!line_open_) {
            line_open_ = true;
            owner_ = me;
        }
        armed_ = armed_ && !hold;
        text_.append(s, n);
        cv_.notify_all();
        if (hold) cv_.wait_for(lock, hold_, [&] { return interleaved_; });
        if (n > 0 && s[n - 1] == '\n' && owner_ == me) line_open_ = false;
        --inside_;
        cv_.notify_all();
    }

    mutable std::mutex m_;
    std::condition_variable cv_;
    std::string text_;
    std::thread::id owner_;
    bool line_open_ = false;
    int inside_ = 0;
    bool armed_ = false;
    std::chrono::milliseconds hold_{0};
    bool interleaved_ = false;
};

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

class ServeCrlTest : public ::testing::Test {
protected:
    TempDir dir;
    test::TestCa first = test::make_root_ca("CN=CAPF-serve-a,OU=Voice,O=Example");
    Store store = test::make_store(dir / "lscgate.db");
    WatchedLog watched;
    std::ostream log{&watched};
    std::atomic<bool> stop{false};
    std::atomic<bool> hup{false};
    std::thread server;
    Status served;

    void install_capf(const test::TestCa& ca) {
        ASSERT_TRUE(write_file_atomically(dir / "capf.crt", certificate_pem(ca.cert.get()), FileMode::Public));
        ASSERT_TRUE(save_private_key(dir / "capf.key", ca.key.get()));
        ASSERT_TRUE(store.add_capf_certificate(ca.cert.get(), "test"));
    }
    void SetUp() override {
        install_capf(first);
        std::ofstream(dir / "lscgate.toml") << default_config_text();
    }
    // `lscgate serve --crl-http 127.0.0.1:0` with [crl] refresh = 1; returns the CRL HTTP port.
    int start_serve() {
        auto cfg = load_config(dir.path());
        EXPECT_TRUE(cfg) << cfg.message();
        cfg->crl_refresh_s = 1;
        capf::ServeOptions options;
        options.listen = "127.0.0.1:" + std::to_string(free_port());
        options.crl_http = "127.0.0.1:0";
        options.refresh_trust = &hup;
        options.reload_config = [this]() -> Result<Config> {
            auto again = load_config(dir.path());
            if (again) again->crl_refresh_s = 1;
            return again;
        };
        server = std::thread([this, c = *cfg, options] { served = capf::serve(c, options, stop, log); });
        EXPECT_TRUE(watched.wait_for("capf listening on")) << watched.text();
        std::smatch m;
        const std::string text = watched.text();
        EXPECT_TRUE(std::regex_search(text, m, std::regex("crl http listening on 127\\.0\\.0\\.1:([0-9]+)"))) << text;
        return m.empty() ? 0 : std::stoi(m[1].str());
    }
    void TearDown() override {
        stop = true;
        if (server.joinable()) server.join();
        EXPECT_TRUE(served) << served.message();
    }
    X509CrlPtr fetch(int port, const std::string& path, int* status = nullptr) {
        httplib::Client client("127.0.0.1", port);
        client.set_connection_timeout(10);
        client.set_read_timeout(10);
        auto res = client.Get(path);
        EXPECT_TRUE(res) << httplib::to_string(res.error());
        if (!res) return nullptr;
        if (status != nullptr) *status = res->status;
        auto crl = parse_crl(res->body);
        return crl ? std::move(*crl) : nullptr;
    }
};

// Item 1: after `kill -HUP`, the CRL is signed by (and served for) the CAPF
// the reload loaded, not the one serve started with.
TEST_F(ServeCrlTest, ASighupRotationMovesTheCrlToTheNewCapf) {
    const int port = start_serve();
    ASSERT_GT(port, 0);
    auto before = fetch(port, "/capf.crl");
    ASSERT_TRUE(before);
    EXPECT_TRUE(crl_signed_by(before.get(), first.cert.get()));

    // `lscgate init --force`: a new key and certificate, the old one previous in the registry.
    auto second = test::make_root_ca("CN=CAPF-serve-b,OU=Voice,O=Example");
    install_capf(second);
    hup = true;
    ASSERT_TRUE(watched.wait_for("capf configuration reloaded (SIGHUP)")) << watched.text();
    // The reload hands the CRL service the new CAPF and returns; its own thread
    // renews and publishes, then logs, the old CAPF's warning last.
    ASSERT_TRUE(watched.wait_for("crl warning: previous CAPF CN=CAPF-serve-a")) << watched.text();

    auto after = fetch(port, "/capf.crl");
    ASSERT_TRUE(after);
    EXPECT_TRUE(crl_signed_by(after.get(), second.cert.get())) << "still the old CAPF's CRL:\n" << watched.text();
    EXPECT_GT(describe_crl(after.get())->number, describe_crl(before.get())->number);
    auto on_disk = parse_crl(*read_text_file(dir / "capf.crl"));
    ASSERT_TRUE(on_disk);
    EXPECT_TRUE(crl_signed_by(on_disk->get(), second.cert.get())) << "[crl] file still signed by the old CAPF";
    // Under its own name too; the old CAPF's key is gone, so it has none, and the log says why.
    auto named = fetch(port, own_crl_path(second.cert.get()));
    ASSERT_TRUE(named);
    EXPECT_TRUE(crl_signed_by(named.get(), second.cert.get()));
    int status = 0;
    EXPECT_FALSE(fetch(port, own_crl_path(first.cert.get()), &status));
    EXPECT_EQ(status, 404);
}

// Item 5: a CRL renewal logged by the refresh thread while the accept loop
// logs a reload: one log, one line at a time.
TEST_F(ServeCrlTest, CrlLinesNeverInterleaveWithTheServersLines) {
    ASSERT_TRUE(store.add_device("SEP0000000000C1", "", "", "test"));
    auto op = store.schedule_operation("SEP0000000000C1", OperationRequest{}, "test");
    ASSERT_TRUE(op);
    auto lsc = test::authority_from(first).issue_lsc("SEP0000000000C1", test::make_key("ec:p256").get(), 30);
    ASSERT_TRUE(lsc);
    ASSERT_TRUE(store.commit_issued_lsc(*op, lsc->get()));
    ASSERT_GT(start_serve(), 0);
    const std::string renewed = " renewed number=";
    const int renewals = [&] {
        const std::string t = watched.text();
        int n = 0;
        for (auto at = t.find(renewed); at != std::string::npos; at = t.find(renewed, at + 1)) ++n;
        return n;
    }();

    // The next line's first write waits up to 3 s for another thread to write:
    // the refresh thread's renewal (a revocation, [crl] refresh = 1) and the
    // reload's lines are both due within that time.
    watched.arm(3000ms);
    ASSERT_TRUE(store.revoke_active_lsc("SEP0000000000C1", "key-compromise", "test"));
    hup = true;
    ASSERT_TRUE(watched.wait_for("capf configuration reloaded (SIGHUP)")) << watched.text();
    ASSERT_TRUE(watched.wait_for(renewed, renewals + 1)) << watched.text();
    EXPECT_FALSE(watched.interleaved()) << "a CRL line was written inside another line:\n" << watched.text();
    for (const auto& line : {std::string("capf configuration reloaded (SIGHUP)"), renewed}) {
        const auto text = watched.text();
        const auto at = text.find(line);
        ASSERT_NE(at, std::string::npos);
        const auto start = text.rfind('\n', at);
        const auto begin = start == std::string::npos ? 0 : start + 1;
        EXPECT_TRUE(std::regex_search(text.substr(begin, 21), std::regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z ")))
            << "a line that does not start with its time stamp:\n" << text;
    }
}

// `capf` re-signed with a keyUsage without cRLSign (read back from DER).
test::TestCa without_crl_sign(const test::TestCa& capf) {
    X509Ptr copy(X509_dup(capf.cert.get()));
    X509_EXTENSION_free(X509_delete_ext(copy.get(), X509_get_ext_by_NID(copy.get(), NID_key_usage, -1)));
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, copy.get(), copy.get(), nullptr, nullptr, 0);
    X509ExtensionPtr usage(X509V3_EXT_conf_nid(nullptr, &ctx, NID_key_usage, "critical,digitalSignature,keyCertSign"));
    EXPECT_TRUE(usage && X509_add_ext(copy.get(), usage.get(), -1) == 1);
    EXPECT_GT(X509_sign(copy.get(), capf.key.get(), EVP_sha256()), 0);
    auto again = parse_certificate_der(certificate_der(copy.get()));
    EXPECT_TRUE(again) << again.message();
    return {std::move(*again), share(capf.key.get())};
}

// Item 3: serve flags a CAPF whose keyUsage lacks cRLSign: with --crl-http it
// does not start (it could serve no valid CRL), without it the log says why
// and how to fix it; phones are served either way.
TEST_F(ServeCrlTest, ACapfWithoutCrlSignIsFlaggedByServe) {
    install_capf(without_crl_sign(first));
    auto cfg = load_config(dir.path());
    ASSERT_TRUE(cfg) << cfg.message();
    capf::ServeOptions options;
    options.listen = "127.0.0.1:" + std::to_string(free_port());
    options.crl_http = "127.0.0.1:0";
    const std::atomic<bool> never{false};
    auto refused = capf::serve(*cfg, options, never, log);
    ASSERT_FALSE(refused) << "serve --crl-http started with a CAPF that cannot sign CRLs";
    EXPECT_NE(refused.message().find("keyUsage lacks cRLSign"), std::string::npos) << refused.message();
    EXPECT_NE(refused.message().find("keyCertSign, cRLSign"), std::string::npos) << refused.message();

    options.crl_http.clear();
    options.listen = "127.0.0.1:" + std::to_string(free_port());
    server = std::thread([this, c = *cfg, options] { served = capf::serve(c, options, stop, log); });
    ASSERT_TRUE(watched.wait_for("capf listening on")) << watched.text();
    EXPECT_TRUE(watched.wait_for("crl warning: not renewed by this server: ")) << watched.text();
    EXPECT_NE(watched.text().find("keyUsage lacks cRLSign"), std::string::npos) << watched.text();
}

}  // namespace
