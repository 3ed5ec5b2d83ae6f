#pragma once

// The open-file limit of processes that hold a socket per CAPF session
// (`lscgate serve`, the phone simulator's load mode).

#include <cstdint>
#include <string>

namespace lscgate::capf {

/// Raises the soft RLIMIT_NOFILE to the hard limit: every CAPF session (server
/// or simulated phone) holds a socket, and the usual soft limit is 1024. Returns
/// the soft limit in force afterwards; `note` says what happened ("raised from
/// 1024", why it could not be raised, or "" when it already was the hard limit).
std::uint64_t raise_open_file_limit(std::string& note);

/// The sessions `lscgate serve` can hold at once: each holds one socket, so the
/// soft RLIMIT_NOFILE (1024 by default, far below max_sessions) is raised to the
/// hard limit, and the sessions are bounded by what it leaves room for beside
/// the descriptors the service keeps for itself (kReservedDescriptors).
struct DescriptorRoom {
    int sessions = 0;  // min(max_sessions, limit - reserved), at least 1
    std::string line;  // what was done or a warning for the log; "" when nothing needed saying
};
DescriptorRoom descriptor_room(int max_sessions);

}  // namespace lscgate::capf
