#pragma once

// The HTTPS listener of `lscgate web` (issue 14): cpp-httplib's SSLServer
// (Debian libcpp-httplib-dev, built with OpenSSL) parses HTTP, and every
// request goes to WebApp::handle. TLS 1.2 at least; the security headers
// (http_policy.h) on every response, errors included; bodies at most 8 MiB (a bulk upload).

#include "pki/result.h"
#include "web/http_policy.h"
#include "web/web_app.h"
#include "web/web_identity.h"

#include <memory>

namespace lscgate::web {

class WebServer {
public:
    /// Binds `where` (listening from here on: connections queue) with `identity`.
    /// Errors: the TLS context refused the certificate or key (Config); the
    /// address is taken or not ours (Unavailable).
    static Result<std::unique_ptr<WebServer>> bind(WebApp& app, const WebIdentity& identity, const ListenAddress& where);
    ~WebServer();
    WebServer(const WebServer&) = delete;
    WebServer& operator=(const WebServer&) = delete;

    /// Serves until stop() is called from another thread. Errors (Unavailable):
    /// the listener failed.
    Status run();
    /// Makes run() return; safe from any thread, once run() started or not.
    void stop();

private:
    struct Impl;
    explicit WebServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace lscgate::web
