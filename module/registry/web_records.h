#pragma once

// The registry rows of web administration (issue 14): the accounts that may
// sign in to `lscgate web`, and the paged, filtered device list its pages read
// (keyset pagination by name: a page costs the same at device 1 and 100 000).

#include "registry/records.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lscgate {

/// What a web account may do: admin changes (schedule, cancel, revoke);
/// helpdesk reads every page and runs doctor, never changes anything.
enum class WebRole { Admin, Helpdesk };
std::string_view to_string(WebRole role);
/// "admin" or "helpdesk". Errors (Input): anything else, named.
Result<WebRole> parse_web_role(std::string_view text);

/// Longest web account name.
inline constexpr std::size_t kMaxWebAccountName = 64;
/// Errors (Input): empty, longer than kMaxWebAccountName, or holding anything
/// but A-Z a-z 0-9 . _ @ - (a name is shown in pages, logs and the audit trail).
Status check_web_account_name(std::string_view name);

/// One row of web_accounts. The password is stored only as an Argon2id
/// encoded hash ($argon2id$v=19$m=…,t=…,p=…$salt$hash; web/password_hash.h).
struct WebAccount {
    std::int64_t id = 0;
    std::string name;
    WebRole role = WebRole::Helpdesk;
    std::string password_hash;
    int failed_logins = 0;                 ///< consecutive wrong passwords since the last success or lock
    std::optional<UnixTime> locked_until;  ///< sign-in refused until then (Unix seconds)
    UnixTime created_at = 0;
    UnixTime updated_at = 0;
};

/// A device's LSC state as the device list shows it, by precedence: an active
/// LSC; else one issued but never confirmed by the phone; else a revoked one;
/// else none (the same classes as `--where lsc=…`, fleet/device_query.h).
enum class LscStatus { Active, Unconfirmed, Revoked, None };
std::string_view to_string(LscStatus status);
/// "active", "unconfirmed", "revoked" or "none". Errors (Input): anything else.
Result<LscStatus> parse_lsc_status(std::string_view text);

/// One page of the device list: devices in name order, each filter ANDed.
struct DevicePageQuery {
    std::string name_contains;   ///< substring of the name, ASCII case ignored ("" = any)
    std::string model_contains;  ///< substring of the model, ASCII case ignored ("" = any)
    std::optional<LscStatus> lsc;
    /// Only devices whose active LSC's notAfter is before this (Unix seconds):
    /// "expiring within 30 days" is now + 30 d.
    std::optional<UnixTime> expiring_before;
    std::string after;   ///< keyset: names strictly after this ("" = from the first)
    std::string before;  ///< keyset backwards: the page ending just before this name (wins over `after`)
    int limit = 50;      ///< rows at most, 1 to kMaxDevicePageRows (clamped)
};

/// The most rows one device page query returns.
inline constexpr int kMaxDevicePageRows = 1000;

/// A device with what the list shows beside it.
struct DeviceListRow {
    Device device;
    LscStatus lsc = LscStatus::None;
    std::optional<UnixTime> lsc_not_after;  ///< the active LSC's notAfter (the latest, if several)
    std::optional<OperationKind> open_kind;     ///< the open (pending or in-progress) operation, if any
    std::optional<OperationState> open_state;
};

/// Devices by LSC status over the whole registry (the dashboard).
struct LscStatusCounts {
    std::int64_t devices = 0;
    std::int64_t active = 0;
    std::int64_t unconfirmed = 0;
    std::int64_t revoked = 0;
    std::int64_t none = 0;
    std::int64_t expiring = 0;       ///< active, notAfter before the given time
    std::int64_t open_operations = 0;  ///< pending or in progress
};

}  // namespace lscgate
