#include "web/web_server.h"

#include "pki/openssl_error.h"
#include "registry/store.h"

// HTTPS needs cpp-httplib's OpenSSL half; Debian's pkg-config file defines this
// too, said here so the header never declares a server without SSLServer.
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#include <httplib.h>

#include <openssl/ssl.h>

#include <cctype>

namespace lscgate::web {
namespace {

// A bulk upload is the largest body: a BAT export of ~20 000 phones with a few
// hundred columns. httplib refuses a longer body (413) before any handler runs.
constexpr std::size_t kMaxBody = 8 * 1024 * 1024;

// The certificate, chain and key into httplib's fresh SSL_CTX; TLS 1.2 at
// least, no compression, no renegotiation.
bool setup_tls(SSL_CTX& ctx, const WebIdentity& id, std::string& error) {
    SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate(&ctx, id.certificate.get()) != 1) {
        error = openssl_error("the web certificate was refused");
        return false;
    }
    for (const auto& c : id.chain)
        if (SSL_CTX_add1_chain_cert(&ctx, c.get()) != 1) {
            error = openssl_error("a chain certificate was refused");
            return false;
        }
    if (SSL_CTX_use_PrivateKey(&ctx, id.key.get()) != 1 || SSL_CTX_check_private_key(&ctx) != 1) {
        error = openssl_error("the web key was refused");
        return false;
    }
    return true;
}

WebRequest to_web_request(const httplib::Request& req) {
    WebRequest r;
    r.method = req.method == "HEAD" ? "GET" : req.method;
    r.path = req.path;
    for (const auto& [key, value] : req.params) r.params.emplace(key, value);  // the first of each name
    // multipart/form-data: httplib puts every part in `files`; a part without a
    // file name is a form field (the CSRF token, the options beside an upload).
    for (const auto& [key, part] : req.files) {
        if (part.filename.empty()) r.params.emplace(key, part.content);
        else r.uploads.emplace(key, WebUpload{part.filename, part.content});
    }
    r.cookie = req.get_header_value("Cookie");
    r.remote_addr = req.remote_addr;
    return r;
}

void write_response(const WebResponse& from, httplib::Response& to) {
    to.status = from.status;
    if (!from.location.empty()) to.set_header("Location", from.location);
    for (const auto& c : from.set_cookies) to.headers.emplace("Set-Cookie", c);
    if (!from.download_name.empty()) {
        std::string name;  // the header is built by hand: only characters that need no quoting in it
        for (char c : from.download_name)
            if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') name.push_back(c);
        to.set_header("Content-Disposition", "attachment; filename=\"" + name + "\"");
    }
    to.set_content(from.body, from.content_type);
}

}  // namespace

struct WebServer::Impl {
    Impl(WebApp& a, const WebIdentity& id)
        : app(a), server([&id, this](SSL_CTX& ctx) { return setup_tls(ctx, id, tls_error); }) {}
    WebApp& app;
    std::string tls_error;
    httplib::SSLServer server;
};

WebServer::WebServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WebServer::~WebServer() = default;

Result<std::unique_ptr<WebServer>> WebServer::bind(WebApp& app, const WebIdentity& identity, const ListenAddress& where) {
    auto impl = std::make_unique<Impl>(app, identity);
    if (!impl->server.is_valid())
        return fail(ErrorKind::Config, "TLS: " + (impl->tls_error.empty() ? std::string("no TLS context") : impl->tls_error));
    auto& svr = impl->server;
    httplib::Headers headers;
    for (const auto& [name, value] : security_headers()) headers.emplace(name, value);
    svr.set_default_headers(headers);
    svr.set_payload_max_length(kMaxBody);
    svr.set_read_timeout(10, 0);
    svr.set_write_timeout(10, 0);
    svr.set_keep_alive_timeout(5);
    WebApp* a = &app;
    auto handler = [a](const httplib::Request& req, httplib::Response& res) {
        write_response(a->handle(to_web_request(req), now_utc()), res);
    };
    svr.Get(".*", handler);
    svr.Post(".*", handler);
    // What reaches httplib's own error path (a malformed request, an exception
    // past handle()) gets a bare status: never a message from inside.
    svr.set_exception_handler([a](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
        a->log("web: internal error on " + req.method + " " + req.path);
        res.status = 500;
        res.set_content("internal error\n", "text/plain; charset=utf-8");
    });
    svr.set_logger([a](const httplib::Request& req, const httplib::Response& res) {
        // The path only: a query may hold what someone searched for, never a secret,
        // but bodies (passwords, authentication strings) are never logged.
        a->log("web " + req.remote_addr + " " + req.method + " " + req.path + " " + std::to_string(res.status));
    });
    if (!svr.bind_to_port(where.host, where.port))
        return fail(ErrorKind::Unavailable, "cannot listen on " + where.text() + " (in use, or not an address of this host)");
    return std::unique_ptr<WebServer>(new WebServer(std::move(impl)));
}

Status WebServer::run() {
    if (!impl_->server.listen_after_bind()) return fail(ErrorKind::Unavailable, "the web listener stopped with an error");
    return {};
}

void WebServer::stop() { impl_->server.stop(); }

}  // namespace lscgate::web
