#pragma once

// The fleet reports (issue 10 item 5), read from the registry through Store (any
// engine) and from what the RADIUS nodes last saw (fleet/device_query.h
// load_last_seen), with the time a parameter:
//   - `report lsc`: per device its LSC status in CUCM's words, the active LSC,
//     and the last RADIUS authentication;
//   - `report foreign`: devices RADIUS last saw presenting an LSC from a CAPF
//     the registry does not trust.
// The stale (unconfirmed) LSCs are in fleet/stale_lsc.h. Nothing here writes.

#include "fleet/device_batch.h"
#include "fleet/device_query.h"
#include "registry/last_seen_sink.h"
#include "registry/store.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace lscgate {

/// The certificate classes RADIUS records in last-seen that the reports read, as
/// decide/cert_class.h's to_string writes them (fleet must not depend on decide;
/// lsc_report_test pins that they are the same).
inline constexpr std::string_view kSeenClassMic = "mic";
inline constexpr std::string_view kSeenClassLscForeign = "lsc-foreign";

/// A device's LSC status in the words of CUCM's phone page ("LSC Status",
/// "Certificate Operation Status").
enum class CucmLscStatus {
    Installed,     ///< an active LSC, and no open or failed operation
    NotInstalled,  ///< no active LSC, and no open or failed operation
    Pending,       ///< its newest operation is open and no session of it failed
    Failed,        ///< its newest operation failed or timed out, or its newest session failed
};

/// "Installed", "Not installed", "Pending", "Failed".
std::string_view to_string(CucmLscStatus status);

/// One row of `report lsc`.
struct LscReportRow {
    std::string device;
    std::string model;                        ///< as the registry holds it
    CucmLscStatus status = CucmLscStatus::NotInstalled;
    std::string cause_class;                  ///< Failed: the session's cause class (capf/session_cause.h),
                                              ///< "timed-out", or "failed" (the operation's own error); else ""
    std::string cause;                        ///< Failed: the cause in words; else ""
    std::optional<std::int64_t> operation_id; ///< the newest operation the status is about, if any
    // The active LSC (all empty / nullopt when there is none):
    std::string serial;                       ///< hex, as `cert list` prints it
    std::string issuer;                       ///< RFC 2253
    std::optional<UnixTime> not_after;
    std::optional<std::int64_t> days_left;    ///< whole days from `now` to not_after, rounded down
    std::optional<SeenEvent> last_seen;       ///< the newest last-seen record (any RADIUS node), if read and seen
    /// RADIUS last saw the phone present its MIC (class mic): it has no LSC, or
    /// does not use the one it has for 802.1X.
    bool mic_only = false;

    /// "Installed", …, or "Failed: <cause>".
    std::string status_text() const;
};

/// Calls `row` for each device of `devices` (in that order) with its LSC status
/// at `now` (Unix seconds), its active LSC and its newest last-seen record from
/// `seen` (nullptr: last-seen not read; the seen fields stay empty). The status
/// is that of the device's newest operation when it is open or failed (its
/// newest recorded CAPF session, Store::each_capf_session, says why it failed),
/// else Installed / Not installed from the active LSC. A few devices are read
/// one by one (indexed), many by one walk of each table. Errors: the registry's,
/// and a device the registry does not know (kind Input: "no such device: …").
Status each_lsc_report_row(Store& store, const std::vector<BatchDevice>& devices, const LastSeenIndex* seen,
                           UnixTime now, const std::function<Status(const LscReportRow&)>& row);

/// One row of `report foreign`.
struct ForeignDevice {
    std::string device;
    bool registered = false;  ///< the registry knows the device
    std::string model;        ///< "" when not registered
    std::string issuer;       ///< the CAPF the LSC came from, as RADIUS's reason names it ("" if it does not)
    SeenEvent seen;           ///< the last-seen record (class lsc-foreign)
};

/// The devices whose newest last-seen record (any node) has class lsc-foreign: an
/// LSC from a CAPF the registry does not trust (another cluster's, a retired
/// one, or forged). By device name; only those in `only` when given. Errors: the
/// registry's.
Result<std::vector<ForeignDevice>> foreign_devices(Store& store, const LastSeenIndex& seen,
                                                   const std::unordered_set<std::string>* only);

/// The issuer named by a RADIUS reason for class lsc-foreign
/// (decide/classifier.cpp: "… from an untrusted CAPF /O=…/CN=…", "… was issued
/// by /CN=…, which is no longer trusted", "claims to be issued by LABEL but …"),
/// or "" when the reason names none.
std::string foreign_issuer_from_reason(std::string_view reason);

}  // namespace lscgate
