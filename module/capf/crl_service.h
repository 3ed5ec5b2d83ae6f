#pragma once

// The CRLs inside `lscgate serve`: renewed from the registry every [crl]
// refresh seconds when due (capf/crl_publisher.h), and, with --crl-http
// ADDR:PORT, served over plain HTTP (DER, application/pkix-crl, RFC 5280
// §4.2.1.13) with cpp-httplib, for the ASA's `revocation-check crl` and
// FreeRADIUS nodes fetching them: the current CAPF's at /capf.crl, and every
// published one (current and previous CAPFs) at /capf-<SHA16>.crl. A CRL
// renewed by another process on the same file (`lscgate revoke`) is served
// from the next request on: the file is re-read when its modification time or
// size changes. A SIGHUP that rotates the CAPF hands the service the new
// certificate and key (adopt): from then on it signs, and serves, for that one.

#include "capf/crl_publisher.h"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace lscgate::capf {

class CrlService {
public:
    using Log = std::function<void(const std::string&)>;
    using Clock = std::function<UnixTime()>;

    /// Loads the CAPF of `config`, opens the registry, renews the CRL once,
    /// starts the refresh thread and, when `http_listen` is not empty, the HTTP
    /// server on it (logged as "crl http listening on ADDR:PORT"). Errors: the
    /// CAPF's, the registry's, the first renewal's, an address that cannot be bound.
    static Result<std::unique_ptr<CrlService>> start(const Config& config, const std::string& http_listen, Log log,
                                                     Clock clock = now_utc);
    ~CrlService();
    CrlService(const CrlService&) = delete;
    CrlService& operator=(const CrlService&) = delete;

    /// Renews the CRLs when due at clock() (the refresh thread's step); logs
    /// the CAPFs that get no CRL when that list changed.
    Result<CrlOutcome> refresh_now();
    /// Takes the configuration and CAPF of a reload (a rotated CAPF certificate
    /// and key, another [crl] file or validity) and wakes the refresh thread,
    /// which renews at once and logs the outcome ("crl … renewed …", or "crl
    /// warning: after the reload: …"; the service keeps the new CAPF and tries
    /// again every refresh). Returns at once: the caller (a reload, which serve's event loop waits for)
    /// never waits for the registry or the CRL file's lock.
    void adopt(const Config& config, const CapfAuthority& capf);
    /// The current CAPF's CRL to serve (DER): its file's current content.
    std::string current_der();
    /// The CRL served as /NAME ("capf.crl", "capf-<SHA16>.crl"): nullopt when
    /// no CAPF of the last renewal has that name (HTTP 404), "" when its file
    /// holds no CRL it signed yet (503).
    std::optional<std::string> der_named(const std::string& name);
    /// The bound HTTP port (0 without HTTP; the port chosen when asked for port 0).
    int http_port() const { return http_port_; }

private:
    // What a reload replaces whole: each step works on the snapshot it took.
    struct State {
        Config config;
        CrlSettings settings;
        CapfAuthority capf;
    };
    // One CRL file that may be served, and what was last read of it.
    struct Served {
        std::filesystem::path file;
        X509Ptr capf;  // only a CRL this certificate signed is served
        std::string der;
        std::int64_t mtime_ns = -1;
        std::int64_t size = -1;
    };
    CrlService(std::shared_ptr<const State> state, Store store, Log log, Clock clock);
    std::shared_ptr<const State> state() const;
    Status start_http(const std::string& listen);
    void refresh_loop();
    void note_published(const CrlOutcome& outcome);
    std::optional<std::string> read_served(const std::string& name);

    mutable std::mutex state_mutex_;
    std::shared_ptr<const State> state_;
    Store store_;  // used under refresh_mutex_ only
    std::mutex refresh_mutex_;
    std::vector<std::string> unpublished_;  // last logged; under refresh_mutex_
    bool refreshed_once_ = false;           // under refresh_mutex_: the first renewal logs every CRL
    Log log_;
    Clock clock_;

    std::mutex served_mutex_;  // guards served_
    std::map<std::string, Served> served_;  // by HTTP name: "capf.crl", "capf-<SHA16>.crl"

    std::mutex wait_mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool adopted_ = false;  // under wait_mutex_: adopt() asks the refresh thread to renew now
    std::thread refresher_;

    std::unique_ptr<httplib::Server> http_;
    std::thread http_thread_;
    std::atomic<bool> http_returned_{false};
    int http_port_ = 0;
};

}  // namespace lscgate::capf
