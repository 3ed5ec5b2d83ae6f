#pragma once

#include "pki/result.h"

#include <string>
#include <string_view>

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

}  // namespace lscgate::capf
