#pragma once

// Checking a phone's AUTH_RESPONSE credentials for its operation
// (module/capf/PROTOCOL.md §7): the authentication string, the MIC/LSC proof of
// possession and the SUDI. Split from the session's message flow (session.cpp)
// so each stays readable; it writes to the registry only to make an unconfirmed
// LSC active when the phone proves it holds it.

#include "capf/protocol.h"
#include "capf/session.h"
#include "capf/session_cause.h"

#include <cstdint>
#include <string>

namespace lscgate::capf {

/// What the phone sent to prove who it is, as received.
struct PhoneCredentials {
    const Message& auth;           ///< its AUTH_RESPONSE
    const std::string& sent_name;  ///< DEVICE_NAME exactly as received (§7.3 signs it before normalisation)
    std::uint32_t session_id = 0;  ///< this session's id (§7.4 signs it into the SUDI proof)
};

/// The outcome of authenticate_phone.
struct AuthVerdict {
    /// Ok: the phone proved who it is. Kind AuthFailed: it did not (counted toward
    /// the lockout); any other kind: a fault on our side (configuration, registry,
    /// OpenSSL), never held against the phone.
    Status status;
    /// When status is AuthFailed, the class to record: WrongString for a missing or
    /// wrong authentication string (auth=string), CertificateRefused otherwise
    /// (MIC/LSC proof, SUDI under any mode).
    SessionCause refused_as = SessionCause::CertificateRefused;
    std::string authenticated_by;  ///< "LSC" / "MIC" in certificate modes, "" otherwise
    std::string note;              ///< what was deliberately not checked ("; "-separated), "" if nothing
};

/// Checks `phone`'s credentials against `op`'s auth mode for `device` using
/// `ctx`'s trust set, settings and registry (time: now_utc()). Never throws.
AuthVerdict authenticate_phone(SessionContext& ctx, const PhoneCredentials& phone, const Device& device,
                               const Operation& op);

}  // namespace lscgate::capf
