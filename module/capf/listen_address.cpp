#include "capf/listen_address.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace lscgate::capf {

Result<HostPort> parse_host_port(std::string_view text) {
    HostPort hp;
    std::string_view port_text = text;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return fail("invalid address '" + std::string(text) + "': expected [IPv6]:PORT");
        hp.host = std::string(text.substr(1, close - 1));
        port_text = text.substr(close + 2);
    } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
        hp.host = std::string(text.substr(0, colon));
        port_text = text.substr(colon + 1);
    } else {
        hp.host = "0.0.0.0";
    }
    const auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), hp.port);
    if (ec != std::errc{} || p != port_text.data() + port_text.size() || hp.port < 1 || hp.port > 65535)
        return fail("invalid address '" + std::string(text) + "': port must be 1-65535");
    if (hp.host.empty()) return fail("invalid address '" + std::string(text) + "': host missing");
    return hp;
}

namespace {

Result<addrinfo*> resolve(const HostPort& where, bool passive) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(where.port);
    const int rc = ::getaddrinfo(where.host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0) return fail("cannot resolve " + where.host + ": " + gai_strerror(rc));
    return res;
}

}  // namespace

Result<int> listen_tcp(const HostPort& where, int backlog) {
    auto res = resolve(where, true);
    if (!res) return res.error();
    std::string why = "no usable address";
    int fd = -1;
    for (addrinfo* ai = *res; ai != nullptr; ai = ai->ai_next) {
        fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        const int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, backlog) == 0) break;
        why = std::strerror(errno);
        ::close(fd);
        fd = -1;
    }
    ::freeaddrinfo(*res);
    if (fd < 0) return fail("cannot listen on " + where.host + ":" + std::to_string(where.port) + ": " + why);
    return fd;
}

Result<int> connect_tcp(const HostPort& where, int timeout_ms) {
    auto res = resolve(where, false);
    if (!res) return res.error();
    std::string why = "no usable address";
    int fd = -1;
    for (addrinfo* ai = *res; ai != nullptr; ai = ai->ai_next) {
        fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) continue;
        int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            const int ready = ::poll(&p, 1, timeout_ms);
            if (ready == 1) {
                int err = 0;
                socklen_t len = sizeof err;
                ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                rc = err == 0 ? 0 : -1;
                errno = err;
            } else {
                if (ready == 0) errno = ETIMEDOUT;
                rc = -1;
            }
        }
        if (rc == 0) {
            const int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            break;
        }
        why = std::strerror(errno);
        ::close(fd);
        fd = -1;
    }
    ::freeaddrinfo(*res);
    if (fd < 0) return fail("cannot connect to " + where.host + ":" + std::to_string(where.port) + ": " + why);
    return fd;
}

Result<std::vector<TcpAddress>> resolve_tcp(const HostPort& where) {
    auto res = resolve(where, false);
    if (!res) return res.error();
    std::vector<TcpAddress> out;
    for (addrinfo* ai = *res; ai != nullptr; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
        TcpAddress a;
        a.family = ai->ai_family;
        a.protocol = ai->ai_protocol;
        std::memcpy(&a.address, ai->ai_addr, ai->ai_addrlen);
        a.length = ai->ai_addrlen;
        out.push_back(a);
    }
    ::freeaddrinfo(*res);
    if (out.empty()) return fail("cannot resolve " + where.host + ": no usable address");
    return out;
}

Result<StartedConnect> start_connect(const TcpAddress& address) {
    const int fd = ::socket(address.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, address.protocol);
    if (fd < 0) return fail(std::string("cannot create a socket: ") + std::strerror(errno));
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address.address), address.length) == 0) return StartedConnect{fd, false};
    if (errno == EINPROGRESS) return StartedConnect{fd, true};
    const std::string why = std::strerror(errno);
    ::close(fd);
    return fail(why);
}

Status finish_connect(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) return fail(std::strerror(err));
    return {};
}

}  // namespace lscgate::capf
