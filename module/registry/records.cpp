#include "registry/records.h"

#include "pki/printable.h"

#include <array>
#include <utility>

namespace lscgate {
namespace {

template <class E, std::size_t N>
std::string_view name_of(E v, const std::array<std::pair<E, std::string_view>, N>& table) {
    for (const auto& [e, n] : table)
        if (e == v) return n;
    return "?";
}

template <class E, std::size_t N>
Result<E> parse_of(std::string_view s, const std::array<std::pair<E, std::string_view>, N>& table, const char* what) {
    for (const auto& [e, n] : table)
        if (n == s) return e;
    std::string expected;
    for (const auto& [e, n] : table) expected += (expected.empty() ? "" : "|") + std::string(n);
    return fail(ErrorKind::Input, "invalid " + std::string(what) + " '" + escape_nonprintable(s) + "': expected " + expected);
}

constexpr std::array<std::pair<OperationKind, std::string_view>, 4> kKinds{{
    {OperationKind::Install, "install"},
    {OperationKind::Delete, "delete"},
    {OperationKind::Fetch, "fetch"},
    {OperationKind::None, "none"},
}};
constexpr std::array<std::pair<AuthMode, std::string_view>, 6> kModes{{
    {AuthMode::Null, "null"},
    {AuthMode::String, "string"},
    {AuthMode::Lsc, "lsc"},
    {AuthMode::Mic, "mic"},
    {AuthMode::LscOrMic, "lsc-or-mic"},
    {AuthMode::MicOrLsc, "mic-or-lsc"},
}};
constexpr std::array<std::pair<OperationState, std::string_view>, 6> kStates{{
    {OperationState::Pending, "pending"},
    {OperationState::InProgress, "in-progress"},
    {OperationState::Succeeded, "succeeded"},
    {OperationState::Failed, "failed"},
    {OperationState::TimedOut, "timed-out"},
    {OperationState::Cancelled, "cancelled"},
}};
constexpr std::array<std::pair<CertificateKind, std::string_view>, 2> kCertKinds{{
    {CertificateKind::Lsc, "lsc"},
    {CertificateKind::Mic, "mic"},
}};
constexpr std::array<std::pair<CertificateStatus, std::string_view>, 6> kCertStatuses{{
    {CertificateStatus::Active, "active"},
    {CertificateStatus::Unconfirmed, "unconfirmed"},
    {CertificateStatus::Superseded, "superseded"},
    {CertificateStatus::Revoked, "revoked"},
    {CertificateStatus::Removed, "removed"},
    {CertificateStatus::Fetched, "fetched"},
}};
constexpr std::array<std::pair<CapfStatus, std::string_view>, 3> kCapfStatuses{{
    {CapfStatus::Current, "current"},
    {CapfStatus::Previous, "previous"},
    {CapfStatus::Retired, "retired"},
}};

}  // namespace

std::string_view to_string(OperationKind v) { return name_of(v, kKinds); }
std::string_view to_string(AuthMode v) { return name_of(v, kModes); }
std::string_view to_string(OperationState v) { return name_of(v, kStates); }
std::string_view to_string(CertificateKind v) { return name_of(v, kCertKinds); }
std::string_view to_string(CertificateStatus v) { return name_of(v, kCertStatuses); }
std::string_view to_string(CapfStatus v) { return name_of(v, kCapfStatuses); }
Result<OperationKind> parse_operation_kind(std::string_view s) { return parse_of(s, kKinds, "operation"); }
Result<AuthMode> parse_auth_mode(std::string_view s) { return parse_of(s, kModes, "auth mode"); }
Result<OperationState> parse_operation_state(std::string_view s) { return parse_of(s, kStates, "operation state"); }
Result<CertificateKind> parse_certificate_kind(std::string_view s) { return parse_of(s, kCertKinds, "certificate kind"); }
Result<CertificateStatus> parse_certificate_status(std::string_view s) {
    return parse_of(s, kCertStatuses, "certificate status");
}

OperationState effective_state(const Operation& op, UnixTime now) {
    const bool open = op.state == OperationState::Pending || op.state == OperationState::InProgress;
    if (open && op.request.completes_by && *op.request.completes_by < now) return OperationState::TimedOut;
    return op.state;
}

bool is_finished(OperationState s) { return s != OperationState::Pending && s != OperationState::InProgress; }

bool auth_mode_accepts_lsc(AuthMode m) {
    return m == AuthMode::Lsc || m == AuthMode::LscOrMic || m == AuthMode::MicOrLsc;
}
bool auth_mode_accepts_mic(AuthMode m) {
    return m == AuthMode::Mic || m == AuthMode::LscOrMic || m == AuthMode::MicOrLsc;
}

}  // namespace lscgate
