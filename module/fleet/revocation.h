#pragma once

// Revoking an LSC as an administrator asks for it: `lscgate revoke` and the web
// device page (module/web) check the reason, the device or the serial here, so
// both refuse the same things. What follows a revocation (renewing the CRL,
// a CoA to the phone's switch) is the caller's: it needs the CAPF key and the
// configuration.

#include "pki/result.h"
#include "registry/store.h"

#include <array>
#include <string>
#include <string_view>

namespace lscgate {

/// RFC 5280 CRLReason names, spelled the way administrators type them.
inline constexpr std::array<std::string_view, 7> kRevocationReasons = {
    "unspecified", "key-compromise", "ca-compromise", "affiliation-changed", "superseded", "cessation-of-operation",
    "privilege-withdrawn"};

/// Errors (Input): `reason` is not one of kRevocationReasons (the message lists them).
Status check_revocation_reason(std::string_view reason);

/// A serial as administrators paste it — hex digits, optionally ':'-separated or
/// 0x-prefixed, as openssl and `cert list` print them — normalized for
/// Store::revoke_serial. Errors (Input): anything else (never silently dropped).
Result<std::string> parse_serial_text(std::string_view serial);

/// Revokes the active LSC of device `name` (normalized first) with `reason`,
/// audited as `actor`. Errors: the name or reason is invalid, or no such device
/// (Input); the registry's (no active LSC, I/O).
Result<CertificateRecord> revoke_device_lsc(Store& store, std::string_view name, const std::string& reason,
                                            const std::string& actor);

}  // namespace lscgate
