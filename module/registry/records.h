#pragma once

// The rows of the registry, as the rest of the code sees them.

#include "pki/certificate.h"
#include "pki/key_spec.h"
#include "pki/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lscgate {

enum class OperationKind { Install, Delete, Fetch, None };
enum class AuthMode { Null, String, Lsc, Mic, LscOrMic, MicOrLsc };
enum class OperationState { Pending, InProgress, Succeeded, Failed, TimedOut, Cancelled };
enum class CertificateKind { Lsc, Mic };
// unconfirmed: issued and recorded, sent (or about to be sent) to the phone, whose
// "stored" answer has not been recorded yet (a crash, a lost connection, a locked
// or full database). It is recorded *before* it leaves the server, so a phone can
// never hold an LSC the registry does not know; it becomes active when the phone
// confirms, or proves possession of it in a later CAPF session.
// superseded: replaced by a newer LSC; removed: deleted from the phone by a delete operation.
enum class CertificateStatus { Active, Superseded, Revoked, Removed, Fetched, Unconfirmed };

std::string_view to_string(OperationKind v);
std::string_view to_string(AuthMode v);
std::string_view to_string(OperationState v);
std::string_view to_string(CertificateKind v);
std::string_view to_string(CertificateStatus v);
Result<OperationKind> parse_operation_kind(std::string_view s);
Result<AuthMode> parse_auth_mode(std::string_view s);
Result<OperationState> parse_operation_state(std::string_view s);
Result<CertificateKind> parse_certificate_kind(std::string_view s);
Result<CertificateStatus> parse_certificate_status(std::string_view s);

bool auth_mode_accepts_lsc(AuthMode m);
bool auth_mode_accepts_mic(AuthMode m);

struct Device {
    std::int64_t id = 0;
    std::string name;
    std::string model;
    std::string description;
    std::string security_profile;
    int auth_failures = 0;
    std::optional<UnixTime> locked_until;
    UnixTime created_at = 0;
    UnixTime updated_at = 0;
};

struct OperationRequest {
    OperationKind kind = OperationKind::Install;
    AuthMode auth_mode = AuthMode::Null;
    std::string auth_secret_hash;  // empty unless auth_mode == String
    KeySpec key;
    std::optional<UnixTime> completes_by;
};

struct Operation {
    std::int64_t id = 0;
    std::int64_t device_id = 0;
    std::string device_name;
    OperationRequest request;
    OperationState state = OperationState::Pending;
    std::string last_error;
    UnixTime created_at = 0;
    UnixTime updated_at = 0;
    std::optional<UnixTime> finished_at;
};

// The state to show and act on at `now`: an operation still open (pending, or
// in-progress because its session died with the server) whose completes-by
// deadline has passed is timed-out, whatever the row still says. A phone that
// arrives later is refused with END_SESSION(0) either way (CUCM "Late/Timedout").
OperationState effective_state(const Operation& op, UnixTime now);
// Succeeded, failed, timed-out or cancelled: nothing more will happen to it.
bool is_finished(OperationState s);

struct CertificateRecord {
    std::int64_t id = 0;
    std::string device_name;
    CertificateKind kind = CertificateKind::Lsc;
    CertificateStatus status = CertificateStatus::Active;
    CertificateFacts facts;
    std::string pem;
    std::optional<std::int64_t> operation_id;
    std::optional<UnixTime> revoked_at;
    std::string revocation_reason;
    UnixTime created_at = 0;
};

enum class CapfStatus { Current, Previous, Retired };
std::string_view to_string(CapfStatus v);

struct CapfCertificateRecord {
    std::int64_t id = 0;
    CapfStatus status = CapfStatus::Current;
    CertificateFacts facts;
    std::string pem;
    UnixTime created_at = 0;
};

struct AuditEvent {
    std::int64_t id = 0;
    UnixTime at = 0;
    std::string actor;
    std::string action;
    std::string device;
    std::string detail;
    std::string prev_hash;  ///< the hash this row is chained to (registry/audit_chain.h)
    std::string hash;       ///< SHA-256 over prev_hash and this row's canonical content
};

}  // namespace lscgate
