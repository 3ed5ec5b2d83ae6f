#pragma once

// What a Change of Authorization request to a Cisco switch carries, and how its
// answer reads: pure values, no I/O (coa_client.h sends them). The facts are
// written down with their sources in module/coa/COA.md.

#include "pki/result.h"
#include "registry/last_seen_sink.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lscgate {

/// Which RFC 5176 request ends the phone's session.
enum class CoaMode {
    /// CoA-Request (code 43) with Cisco-AVPair "subscriber:command=reauthenticate":
    /// the switch re-runs 802.1X on the session, and RADIUS now refuses the revoked
    /// LSC (Cisco "RADIUS Change of Authorization", CoA Session Reauthenticate).
    Reauthenticate,
    /// Disconnect-Request (code 40, RFC 5176 §2.1): the switch ends the session; the
    /// phone starts a new authentication, which RADIUS refuses.
    Disconnect,
};

/// "reauthenticate" | "disconnect" (the [coa] mode and --coa-mode spelling).
const char* to_string(CoaMode mode);
/// The mode of its spelling; nullopt for anything else.
std::optional<CoaMode> parse_coa_mode(std::string_view text);
/// The RFC 5176 §2.3 request code of the mode: 43 (CoA-Request) or 40 (Disconnect-Request).
int request_code(CoaMode mode);

/// One attribute of a request: its FreeRADIUS dictionary name and its value as text.
struct CoaAttribute {
    std::string name;
    std::string value;
    bool operator==(const CoaAttribute&) const = default;
};

/// The attributes of the request for one device's session, as last-seen recorded
/// its last authentication through that NAS, in this order:
///  * Message-Authenticator (filled in when signed; RFC 5176 §3.4);
///  * NAS-IP-Address or NAS-IPv6-Address = `session.nas`: the NAS answers a
///    request naming another NAS with a NAK, Error-Cause 403 (RFC 5176 §3);
///  * the session identification the switch matches (Cisco guide, "Session
///    Identification": every one given must match the session, else NAK 407):
///    Calling-Station-Id (the phone's MAC, RFC 2865 §5.31) and Cisco-AVPair
///    "audit-session-id=…" when recorded; Acct-Session-Id (RFC 2866 §5.5) only
///    when no audit-session-id was recorded (the audit id is the switch's own,
///    exact session id);
///  * Reauthenticate: Cisco-AVPair "subscriber:command=reauthenticate";
///  * Event-Timestamp = `now` (Unix seconds; RFC 5176 §6.4 replay protection).
/// Errors (Input): no NAS address, no session identification recorded, or a
/// value longer than an attribute holds (253 octets, RFC 2865 §5).
Result<std::vector<CoaAttribute>> coa_attributes(const SeenEvent& session, CoaMode mode, std::int64_t now);

/// How one NAS answered.
enum class CoaOutcome {
    Ack,      ///< CoA-ACK (44) / Disconnect-ACK (41): done
    Nak,      ///< CoA-NAK (45) / Disconnect-NAK (42): the NAS refused (see error_cause)
    Timeout,  ///< no verified answer after every try
    Error,    ///< not sent, or the answers could not be trusted (see error)
};

/// "ACK", "NAK", "timeout", "error".
const char* to_string(CoaOutcome outcome);

/// The result of one request to one NAS.
struct CoaReply {
    CoaOutcome outcome = CoaOutcome::Error;
    int tries = 0;                    ///< requests sent (the first and its retransmissions)
    std::uint32_t error_cause = 0;    ///< Error-Cause of a NAK (RFC 5176 §3.5), 0 when absent
    int discarded = 0;                ///< datagrams dropped: not RADIUS, not an answer to ours, or failed verification
    Error error{};                    ///< outcome Error: why, with a kind (AuthFailed: the answers did not verify)
};

/// The RFC 5176 §3.5 name of an Error-Cause value ("Session-Context-Not-Found"),
/// spelled as FreeRADIUS's dictionary spells it; "" for a value it does not define.
std::string error_cause_name(std::uint32_t value);

/// One line's worth: "ACK", "NAK (Error-Cause 503 Session-Context-Not-Found)",
/// "NAK", "timeout after 3 tries", "error: <message>".
std::string describe(const CoaReply& reply);

}  // namespace lscgate
