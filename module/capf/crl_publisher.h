#pragma once

// The CAPF's CRL (pki/crl.h) kept current: what it lists, when it must be
// renewed, and renewing the file every process of one lscgate directory shares
// (`lscgate revoke`, `lscgate crl`, `lscgate serve`).
//
// Listed: every LSC in the registry issued by the CAPF (issuer name = the CAPF
// certificate's subject) with status revoked (reason from `revoke --reason`),
// and with [crl] include_superseded the superseded ones (reason superseded,
// dated when the device's next LSC was recorded). Not listed: certificates past
// notAfter (RFC 5280 §3.3: an expired certificate may leave the CRL; every
// verifier refuses it anyway), MICs, other issuers' certificates.
//
// Renewed when: there is no CRL yet, it was not signed by this CAPF, the list
// differs from the registry's, or half of its validity (thisUpdate to
// nextUpdate, [crl] validity) has passed, so a head-end that fetches it at any
// time holds one that stays valid long enough to fetch the next. The cRLNumber
// is the previous file's plus one.

#include "pki/crl.h"
#include "pki/issuer.h"
#include "registry/config.h"
#include "registry/store.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lscgate::capf {

struct CrlSettings {
    std::filesystem::path file;  ///< absolute, or relative to the current directory
    int validity_s = 7 * 86400;
    bool include_superseded = false;
};

/// The [crl] settings of `config`, the file resolved against its directory.
CrlSettings crl_settings(const Config& config);

/// What the CRL of `capf` lists at `now` (see the file comment), sorted by
/// serial. Errors: the registry's.
Result<std::vector<CrlEntry>> crl_entries(Store& store, const X509* capf, bool include_superseded, UnixTime now);

/// Whether `current` (nullopt: no usable CRL) must be replaced at `now` by a
/// CRL listing `entries`: the list differs, or now ≥ thisUpdate + (nextUpdate −
/// thisUpdate) / 2.
bool crl_due(const std::optional<CrlFacts>& current, const std::vector<CrlEntry>& entries, UnixTime now);

struct CrlOutcome {
    bool renewed = false;  ///< false: the file on disk was current and is returned as is
    CrlFacts facts;
    std::string der;
};

/// Reads the registry and renews settings.file when crl_due (or `force`):
/// number = the file's + 1, thisUpdate = now, nextUpdate = now + validity,
/// signed by `capf`; written DER, mode 0644, through a temporary file and a
/// rename, under an exclusive lock on FILE.lock so two processes never issue
/// two CRLs with one number. A file not signed by this CAPF, or unreadable, is
/// replaced. Errors: the registry's, the CAPF certificate lacking a
/// subjectKeyIdentifier, the file system's.
Result<CrlOutcome> refresh_crl(Store& store, const CapfAuthority& capf, const CrlSettings& settings, UnixTime now,
                               bool force = false);

}  // namespace lscgate::capf
