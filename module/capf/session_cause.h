#pragma once

// Why a CAPF session did not succeed, as a small set of stable classes, so that
// `lscgate rollout status` and `lscgate capf sessions` can group failures and
// an administrator can act on a group (issue 10 item 4). The session's log line
// and its registry row carry the class and the cause in words.

#include <optional>
#include <string_view>

namespace lscgate::capf {

enum class SessionCause {
    None,                 ///< succeeded (or nothing to report)
    Protocol,             ///< malformed or unexpected message, wrong session id, bad VERSION or DEVICE_NAME
    Connection,           ///< the phone closed or went silent outside key generation and LSC delivery; TLS failed
    UnknownDevice,        ///< the device is not in the registry
    NoOperation,          ///< nothing was scheduled for it
    LockedOut,            ///< too many authentication failures (lockout_failures)
    WrongString,          ///< authentication string missing or wrong (auth=string)
    CertificateRefused,   ///< its MIC/LSC (or SUDI) proof was not accepted for the operation's mode
    Late,                 ///< it came after the operation's completes-by (CUCM "Late/Timedout")
    KeyRefused,           ///< the phone could not make the requested key, or returned another/unusable one
    DroppedDuringKeygen,  ///< closed or silent while generating its key
    DroppedAfterKeygen,   ///< the LSC was sent but the phone never said it stored it (left unconfirmed)
    PhoneRefused,         ///< the phone answered with a failure (store, fetch, delete)
    Busy,                 ///< the operation was already taken by another CAPF session
    Server,               ///< our side: registry unavailable or full, signing failed, internal error
};

/// The class's stable name, e.g. "wrong-string" (log lines, the registry, JSON).
std::string_view to_string(SessionCause cause);
/// A short phrase for a group heading, e.g. "wrong authentication string".
std::string_view describe(SessionCause cause);
/// The class named by `name` (as to_string writes it), or nullopt.
std::optional<SessionCause> parse_session_cause(std::string_view name);

}  // namespace lscgate::capf
