#pragma once

// The CRL inside `lscgate serve`: renewed from the registry every [crl]
// refresh seconds when due (capf/crl_publisher.h), and, with --crl-http
// ADDR:PORT, served over plain HTTP at /capf.crl (DER, application/pkix-crl,
// RFC 5280 §4.2.1.13) with cpp-httplib, for the ASA's `revocation-check crl`
// and FreeRADIUS nodes fetching it. A CRL renewed by another process on the
// same file (`lscgate revoke`) is served from the next request on: the file is
// re-read when its modification time or size changes.

#include "capf/crl_publisher.h"

#include <atomic>
#include <condition_variable>
#include <functional>
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

    /// Renews the CRL when due at clock() (the refresh thread's step).
    Result<CrlOutcome> refresh_now();
    /// The CRL to serve (DER): the file's current content.
    std::string current_der();
    /// The bound HTTP port (0 without HTTP; the port chosen when asked for port 0).
    int http_port() const { return http_port_; }

private:
    CrlService(Config config, CapfAuthority capf, Store store, Log log, Clock clock);
    Status start_http(const std::string& listen);
    void refresh_loop();

    Config config_;
    CrlSettings settings_;
    CapfAuthority capf_;
    Store store_;            // used under refresh_mutex_ only
    std::mutex refresh_mutex_;
    Log log_;
    Clock clock_;

    std::mutex served_mutex_;  // guards the three below
    std::string served_der_;
    std::int64_t served_mtime_ns_ = -1;
    std::int64_t served_size_ = -1;

    std::mutex wait_mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread refresher_;

    std::unique_ptr<httplib::Server> http_;
    std::thread http_thread_;
    std::atomic<bool> http_returned_{false};
    int http_port_ = 0;
};

}  // namespace lscgate::capf
