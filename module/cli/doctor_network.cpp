// doctor: can a phone reach the CAPF? The name it is given (--capf-host; CUCM's
// "publisher FQDN") must resolve, to an address `serve` listens on, and `serve`
// must complete TLS with the CAPF certificate (Cisco LSC troubleshooting: "No valid
// CAPF server", "LSC: Connection Failed", port 3804 unreachable).

#include "capf/listen_address.h"
#include "capf/tls_context.h"
#include "capf/tls_stream.h"
#include "cli/doctor_checks.h"
#include "pki/bytes.h"
#include "pki/printable.h"

#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

namespace lscgate::cli::doctor {
namespace {

struct Resolved {
    std::string text;  // "192.0.2.5", "2001:db8::5"
    sockaddr_storage addr{};
    socklen_t len = 0;
};

std::vector<Resolved> resolve(const std::string& host, int& rc) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(res, &::freeaddrinfo);
    std::vector<Resolved> out;
    for (const addrinfo* a = res; rc == 0 && a != nullptr; a = a->ai_next) {
        Resolved r;
        std::memcpy(&r.addr, a->ai_addr, a->ai_addrlen);
        r.len = a->ai_addrlen;
        std::array<char, INET6_ADDRSTRLEN> buf{};
        const void* raw = a->ai_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
                                                  : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
        if (::inet_ntop(a->ai_family, raw, buf.data(), buf.size()) == nullptr) continue;
        r.text = buf.data();
        bool seen = false;
        for (const auto& o : out) seen = seen || o.text == r.text;
        if (!seen) out.push_back(r);
    }
    return out;
}

// Whether this host owns the address: binding a socket to it (port 0) succeeds only then.
bool is_local(const Resolved& r) {
    const int fd = ::socket(r.addr.ss_family, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_storage a = r.addr;
    if (a.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&a)->sin_port = 0;
    else reinterpret_cast<sockaddr_in6*>(&a)->sin6_port = 0;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), r.len) == 0;
    ::close(fd);
    return ok;
}

bool is_wildcard(const std::string& host) { return host.empty() || host == "0.0.0.0" || host == "::" || host == "*"; }

}  // namespace

void check_capf_host(const Config& cfg, const std::string& host, Report& report) {
    int rc = 0;
    const auto addresses = resolve(host, rc);
    const std::string shown = escape_nonprintable(host);
    if (addresses.empty()) {
        report.fail("capf-host.unresolved", "phone shows \"No valid CAPF server\" (or \"Operation Pending\" when the publisher's FQDN does not resolve)",
                    "'" + shown + "' does not resolve to any A or AAAA record" + (rc != 0 ? std::string(": ") + ::gai_strerror(rc) : ""),
                    "add A/AAAA records for '" + shown + "' in the phones' DNS, or give the phones the CAPF's address");
        return;
    }
    std::string list;
    for (const auto& a : addresses) list += (list.empty() ? "" : ", ") + a.text;
    auto listen = capf::parse_host_port(cfg.listen);
    if (!listen) {
        report.fail("capf-host.listen", "\"LSC: Connection Failed\"", "[server] listen: " + listen.message(), "fix [server] listen in lscgate.toml");
        return;
    }
    std::vector<std::string> reachable;
    for (const auto& a : addresses)
        if (is_wildcard(listen->host) ? is_local(a) : a.text == listen->host) reachable.push_back(a.text);
    if (reachable.empty()) {
        report.fail("capf-host.elsewhere", "phone shows \"LSC: Connection Failed\" (port 3804 unreachable)",
                    "'" + shown + "' resolves to " + list + ", and 'lscgate serve' listens on " + cfg.listen +
                        (is_wildcard(listen->host) ? " on this host, which owns none of these addresses" : ", none of them"),
                    "point '" + shown + "' at this host, or set [server] listen to an address it resolves to");
        return;
    }
    const bool all_loopback = std::all_of(addresses.begin(), addresses.end(), [](const Resolved& a) {
        return a.text.rfind("127.", 0) == 0 || a.text == "::1";
    });
    if (all_loopback && is_wildcard(listen->host))
        report.warn("capf-host.loopback", "phone shows \"LSC: Connection Failed\" (it would connect to itself)",
                    "'" + shown + "' resolves only to loopback (" + list + ") on this host; the phones' DNS must give them a routable address",
                    "give the phones a name or address of this host that they can reach");
    else if (reachable.size() < addresses.size())
        report.warn("capf-host.partly", "\"LSC: Connection Failed\" on some attempts (phones try the addresses in turn)",
                    "'" + shown + "' resolves to " + list + "; 'lscgate serve' (" + cfg.listen + ") is on only part of them",
                    "remove the stale A/AAAA records, or listen on every address");
    else
        report.ok("capf-host", "'" + shown + "' resolves to " + list + ", where 'lscgate serve' listens (" + cfg.listen + ")");
}

void check_serve(const Config& cfg, Report& report) {
    auto listen = capf::parse_host_port(cfg.listen);
    if (!listen) {
        report.fail("serve.listen", "\"LSC: Connection Failed\"", "[server] listen: " + listen.message(), "fix [server] listen in lscgate.toml");
        return;
    }
    capf::HostPort target = *listen;
    if (is_wildcard(target.host)) target.host = target.host == "::" ? "::1" : "127.0.0.1";
    const std::string where = target.host + ":" + std::to_string(target.port);
    auto fd = capf::connect_tcp(target, 3000);
    if (!fd) {
        report.fail("serve.unreachable", "phone shows \"LSC: Connection Failed\"; no line in the CAPF server log",
                    "nothing accepts TCP on " + where + " ([server] listen = " + cfg.listen + "): " + fd.message(),
                    "start 'lscgate serve' (systemctl start lscgate), and open TCP " + std::to_string(target.port) +
                        " from the phones' network");
        return;
    }
    auto cert = load_certificate(cfg.resolve(cfg.capf_cert));
    if (!cert) {
        ::close(*fd);
        report.fail("serve.tls", "\"LSC: Connection Failed\"", "no CAPF certificate to check the handshake with: " + cert.message(),
                    "run 'lscgate init' or 'lscgate capf import'");
        return;
    }
    auto ctx = capf::make_client_tls_context({cert->get()}, "");
    if (!ctx) {
        ::close(*fd);
        report.fail("serve.tls", "(not checked)", ctx.message(), "");
        return;
    }
    capf::TlsStream stream(SslPtr(SSL_new(ctx->get())), *fd);
    const auto status = stream.connect(std::chrono::steady_clock::now() + std::chrono::seconds(10));
    if (!status) {
        std::string presented;
        if (X509* peer = SSL_get0_peer_certificate(stream.ssl()); peer != nullptr)
            if (auto facts = describe_certificate(peer); facts && X509_cmp(peer, cert->get()) != 0)
                presented = "; it presents " + facts->subject + " (SHA-256 " + facts->sha256 + "), not " +
                            cfg.resolve(cfg.capf_cert).string();
        report.fail("serve.tls", "phone shows \"LSC: Connection Failed\"; server log result=closed cause=\"TLS handshake failed …\"",
                    "the TLS handshake with " + where + " failed: " + status.message() + presented,
                    presented.empty() ? "check that 'lscgate serve' runs with this directory and tls_min"
                                      : "restart 'lscgate serve' after a CAPF import, or check which server owns " + where);
        return;
    }
    stream.shutdown();
    report.ok("serve", "'lscgate serve' on " + where + " completes TLS with the configured CAPF certificate");
}

}  // namespace lscgate::cli::doctor
