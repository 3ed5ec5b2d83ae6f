#pragma once

// The one outcome vocabulary of a RADIUS decision, shared by the policy (which
// answers Accept, Restrict or Reject for a certificate class), the decision engine
// (which adds Noop and Error) and the FreeRADIUS glue (which maps it to rlm_rcode
// and the LSCgate-Verdict attribute).

#include <string_view>

namespace lscgate {

/// What happens to one RADIUS request.
///  - Accept:   Access-Accept with the policy's accept attributes.
///  - Restrict: Access-Accept with the restrict attributes (e.g. an enrolment VLAN).
///  - Reject:   Access-Reject.
///  - Noop:     nothing to decide on yet (an EAP conversation still running, or
///              post-auth without a certificate); the module returns noop.
///  - Error:    the decision itself failed (registry unreadable, ...): rejected,
///              and logged as an error. Never produced by the policy.
enum class RadiusOutcome { Accept, Restrict, Reject, Noop, Error };

/// "accept", "restrict", "reject", "noop", "error": the value of the
/// LSCgate-Verdict control attribute and of the first word of the log line.
std::string_view to_string(RadiusOutcome outcome) noexcept;

}  // namespace lscgate
