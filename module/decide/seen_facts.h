#pragma once

// What last-seen keeps of one RADIUS request (registry/last_seen_sink.h
// SeenEvent), taken from the request the FreeRADIUS glue passed in. Every text
// comes from the NAS or the phone, so each is bounded and made printable here
// (pki/printable.h escapes), before it reaches a database or a report.

#include "decide/decision_engine.h"
#include "registry/last_seen_sink.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace lscgate {

/// Length caps, in bytes of the stored (escaped) text. A RADIUS attribute value
/// is at most 253 bytes (RFC 2865 §5); these keep the reports readable.
inline constexpr std::size_t kSeenDeviceMax = 128;
inline constexpr std::size_t kSeenIdMax = 64;        ///< Calling-Station-Id, session ids, node name
inline constexpr std::size_t kSeenPortMax = 128;     ///< NAS-Port-Id ("GigabitEthernet1/0/7", a VPN tunnel name)
inline constexpr std::size_t kSeenReasonMax = 256;

/// `text` escaped as escape_nonprintable does (\n, \xHH, \\), cut at whole escapes
/// so the result is at most `max` bytes.
std::string bounded_printable(std::string_view text, std::size_t max);

/// The Cisco audit session id from a request's Cisco-AVPair values (vendor 9,
/// attribute 1): the value of the first pair "audit-session-id=<id>" (Cisco's
/// AV-pair form "attribute=value", also "attribute*value" for an optional one;
/// the name compared without case, blanks around it ignored), bounded and
/// printable; "" when no value carries one. Cisco switches send it in
/// Access-Request as the session id ISE and `show access-session` use.
std::string cisco_audit_session_id(const std::vector<std::string_view>& avpairs);

/// The event last-seen records for a decided request (node left empty: the
/// recorder adds its own).
SeenEvent seen_event(const RadiusRequest& request, const Decision& decision, UnixTime now);

/// This RADIUS node's name for last-seen: `configured` (bounded, printable), or
/// the host name (gethostname(2)) when empty, or "unknown".
std::string seen_node_name(std::string_view configured);

}  // namespace lscgate
