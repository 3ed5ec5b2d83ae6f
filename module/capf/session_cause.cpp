#include "capf/session_cause.h"

#include <array>
#include <utility>

namespace lscgate::capf {
namespace {

struct Entry {
    SessionCause cause;
    std::string_view name;
    std::string_view words;
};

constexpr std::array kEntries = {
    Entry{SessionCause::None, "", "succeeded"},
    Entry{SessionCause::Protocol, "protocol", "protocol error"},
    Entry{SessionCause::Connection, "connection", "connection dropped"},
    Entry{SessionCause::UnknownDevice, "unknown-device", "device not in the registry"},
    Entry{SessionCause::NoOperation, "no-operation", "no operation pending"},
    Entry{SessionCause::LockedOut, "locked-out", "locked out after authentication failures"},
    Entry{SessionCause::WrongString, "wrong-string", "wrong or missing authentication string"},
    Entry{SessionCause::CertificateRefused, "certificate-refused", "MIC/LSC not accepted"},
    Entry{SessionCause::Late, "late", "late: completes-by passed"},
    Entry{SessionCause::KeyRefused, "key-refused", "key type or size refused by the phone"},
    Entry{SessionCause::DroppedDuringKeygen, "dropped-during-keygen", "dropped during key generation"},
    Entry{SessionCause::DroppedAfterKeygen, "dropped-after-keygen", "dropped after the LSC was sent (unconfirmed)"},
    Entry{SessionCause::PhoneRefused, "phone-refused", "the phone reported a failure"},
    Entry{SessionCause::Busy, "busy", "operation taken by another CAPF session"},
    Entry{SessionCause::Server, "server", "server-side error"},
};

const Entry& entry(SessionCause cause) {
    for (const auto& e : kEntries)
        if (e.cause == cause) return e;
    return kEntries.back();  // unreachable: every enumerator has an entry
}

}  // namespace

std::string_view to_string(SessionCause cause) { return entry(cause).name; }
std::string_view describe(SessionCause cause) { return entry(cause).words; }

std::optional<SessionCause> parse_session_cause(std::string_view name) {
    for (const auto& e : kEntries)
        if (e.name == name) return e.cause;
    return std::nullopt;
}

}  // namespace lscgate::capf
