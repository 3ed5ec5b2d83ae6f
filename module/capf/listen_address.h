#pragma once

#include "pki/result.h"

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lscgate::capf {

struct HostPort {
    std::string host;
    int port = 0;
};

// "127.0.0.1:3804", "[::1]:3804", "0.0.0.0:3804"; a bare port means all IPv4 addresses.
Result<HostPort> parse_host_port(std::string_view text);

// Non-blocking-safe TCP helpers returning owned file descriptors (or an error).
Result<int> listen_tcp(const HostPort& where, int backlog);
Result<int> connect_tcp(const HostPort& where, int timeout_ms);

/// One address a HostPort resolves to, ready for socket(2) and connect(2).
struct TcpAddress {
    int family = 0;
    int protocol = 0;
    sockaddr_storage address{};
    socklen_t length = 0;
};
/// The addresses of `where` in getaddrinfo(3)'s order (which may wait on DNS);
/// an error when there are none.
Result<std::vector<TcpAddress>> resolve_tcp(const HostPort& where);

/// A socket (non-blocking, close-on-exec, TCP_NODELAY) whose connect(2) has
/// started; while `in_progress`, wait until it is writable, then finish_connect.
struct StartedConnect {
    int fd = -1;  // owned by the caller
    bool in_progress = false;
};
Result<StartedConnect> start_connect(const TcpAddress& address);
/// A started connect's outcome (SO_ERROR): Ok once connected.
Status finish_connect(int fd);

}  // namespace lscgate::capf
