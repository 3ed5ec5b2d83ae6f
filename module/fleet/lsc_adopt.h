#pragma once

// Adopting LSCs already on phones (issue 10 item 8): when lscgate takes over
// from a call-manager cluster's CAPF (its certificate and key imported with
// `lscgate capf import`), a fetch operation records each phone's current
// certificate (status fetched). `lscgate cert adopt` makes such a fetched LSC
// the device's active LSC when it chains to a CAPF the registry trusts (current
// or previous, never retired) and is valid now, so RADIUS accepts it as
// lsc-valid without the phone generating a new key. Time is a parameter.

#include "pki/trust_set.h"
#include "registry/store.h"

#include <optional>
#include <string>
#include <vector>

namespace lscgate {

/// The trust an adopted LSC must chain to: the registry's current and previous
/// CAPF certificates (Store::list_capf_certificates, retired ones left out), as
/// the CAPF server and RADIUS trust them (pki/trust_loader.h). Errors: the
/// registry's, an unparsable CAPF row, no trusted CAPF at all (kind Config).
Result<TrustSet> registry_capf_trust(Store& store);

/// What adopting one device's fetched LSC would do.
struct AdoptionCheck {
    /// The device's newest fetched LSC (kind lsc, status fetched), if it has one.
    std::optional<CertificateRecord> certificate;
    /// Why it cannot be adopted (for the administrator); "" when it can.
    std::string refused;
};

/// Checks `device` (a normalized, registered name) at `now`: it has a fetched
/// LSC; no active LSC was recorded after that fetch; the LSC's CN names the
/// device; it is within its validity; and it chains to `trust`
/// (TrustSet::verify_lsc, which also refuses a CA certificate). A refusal is a
/// value (`refused`), not an error. Errors: the registry's, OpenSSL's own
/// failures (kind Internal).
Result<AdoptionCheck> check_adoption(Store& store, const TrustSet& trust, const std::string& device, UnixTime now);

/// Every device with a fetched LSC (`cert adopt --all-fetched`), by name.
/// Errors: the registry's.
Result<std::vector<std::string>> devices_with_fetched_lsc(Store& store);

}  // namespace lscgate
