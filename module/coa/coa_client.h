#pragma once

// Sends one RFC 5176 request to one NAS and waits for its answer: the Dynamic
// Authorization Client side (RFC 5176 §1.3), over FreeRADIUS's client library
// (coa_wire.h). One UDP socket per request, unconnected, so an ICMP "port
// unreachable" from a NAS that does not listen reads as no answer, as it does
// behind a firewall that drops the packet.

#include "coa/coa_request.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace lscgate {

/// Where a request goes and what it carries.
struct CoaRequest {
    CoaMode mode = CoaMode::Reauthenticate;
    std::string nas;              ///< the NAS's IPv4 or IPv6 address literal
    std::uint16_t port = 1700;    ///< its CoA port (Cisco IOS 1700, RFC 5176 §2.3 3799)
    std::vector<CoaAttribute> attributes;  ///< coa_attributes()
};

/// How long to wait and how often to send.
struct CoaRetry {
    int tries = 3;                                     ///< sends in all (>= 1): the first and retransmissions
    std::chrono::milliseconds timeout{std::chrono::seconds(3)};  ///< wait for an answer after each send
};

/// Sends `request` signed with `secret`, retransmitting the same packet (same
/// Identifier and Request Authenticator, RFC 5080 §2.2.1) after each `timeout`
/// without a verified answer, up to `tries` sends. Answers from elsewhere, with
/// another Identifier, malformed, or whose Response Authenticator or
/// Message-Authenticator does not verify with `secret` are discarded (RFC 2865 §3:
/// silently) and counted. Outcomes: Ack / Nak (with Error-Cause) on a verified
/// answer; Timeout when none came; Error with kind AuthFailed when the only
/// answers failed verification (the NAS's secret differs), Input for an address
/// or attribute the library refuses, Unavailable when the packet cannot be sent
/// (no route), Internal for the library's own failures. Never throws; never
/// writes the secret anywhere.
CoaReply send_coa(const CoaRequest& request, const std::string& secret, const CoaRetry& retry);

}  // namespace lscgate
