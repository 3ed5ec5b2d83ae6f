#pragma once

// Stale LSCs (issue 10 item 5): certificates signed and sent to a phone whose
// "stored" answer never came (status unconfirmed, registry/records.h) — CUCM's
// `stale-lsc` list. RADIUS still accepts an unconfirmed LSC that is newer than
// the device's active one (the phone may hold it), so they are listed by
// `report stale` and revoked by `lscgate cert purge-stale` once old enough or
// superseded: they then leave RADIUS's acceptance and enter the CRL. Rows are
// never deleted. Time is a parameter.

#include "registry/store.h"

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace lscgate {

/// One unconfirmed LSC.
struct StaleLsc {
    std::int64_t certificate_id = 0;
    std::string device;
    std::string serial;   ///< hex
    std::string sha256;   ///< upper-case hex
    UnixTime issued_at = 0;           ///< when it was recorded (just before it was sent)
    std::int64_t age_seconds = 0;     ///< now - issued_at
    /// The serial of the device's active LSC when that one is newer (recorded
    /// after this one): the phone cannot hold this one any more.
    std::optional<std::string> superseded_by;
};

/// Every unconfirmed LSC (only those of devices in `only`, when given), by
/// device name then age (oldest first), aged at `now` (Unix seconds). Errors:
/// the registry's.
Result<std::vector<StaleLsc>> stale_lscs(Store& store, const std::unordered_set<std::string>* only, UnixTime now);

/// Those of `stale` that `cert purge-stale --older-than` revokes: issued at
/// least `older_than_seconds` ago, or superseded already (whatever their age).
std::vector<StaleLsc> purge_candidates(const std::vector<StaleLsc>& stale, std::int64_t older_than_seconds);

/// Revokes `lsc` with reason superseded (audited as certificate.revoke by the
/// store), in one transaction that first checks it is still unconfirmed, so an
/// LSC its phone confirmed meanwhile (now active) is never revoked by a purge.
/// Returns the revoked record. Errors: it changed meanwhile (kind Input: "… is
/// active now, not revoked"), its serial is ambiguous, the registry's.
Result<CertificateRecord> purge_stale_lsc(Store& store, const StaleLsc& lsc, const std::string& actor);

}  // namespace lscgate
