#pragma once

// The CAPF's CRLs (pki/crl.h) kept current: renewing the files every process
// of one lscgate directory shares (`lscgate revoke`, `lscgate crl`,
// `lscgate serve`). Which CRLs there are and what each lists:
// capf/crl_scope.h (one per non-retired CAPF certificate, each signed by its
// own key).
//
// A CRL is renewed when: there is none yet, its file was not signed by its
// CAPF, the list differs from the registry's, or half of its validity
// (thisUpdate to nextUpdate, [crl] validity) has passed, so a head-end that
// fetches it at any time holds one that stays valid long enough to fetch the
// next. The cRLNumber is one more than the highest number of every CRL file of
// the directory, so it only grows for every issuer (RFC 5280 §5.2.3), also when
// a rotation moves a CAPF's CRL from [crl] file to its own file.

#include "capf/crl_scope.h"
#include "pki/crl.h"
#include "pki/issuer.h"
#include "registry/config.h"
#include "registry/store.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lscgate::capf {

/// The [crl] settings of `config`, the files resolved against its directory;
/// previous CAPF keys are looked for beside [capf] key.
CrlSettings crl_settings(const Config& config);

/// Whether `current` (nullopt: no usable CRL) must be replaced at `now` by a
/// CRL listing `entries`: the list differs, or now ≥ thisUpdate + (nextUpdate −
/// thisUpdate) / 2.
bool crl_due(const std::optional<CrlFacts>& current, const std::vector<CrlEntry>& entries, UnixTime now);

/// One CAPF's CRL as it is on disk after a refresh.
struct PublishedCrl {
    X509Ptr capf;               ///< the CAPF certificate that signed it
    std::string label;          ///< CrlIssuer::label()
    bool current = false;       ///< the configured CAPF's: [crl] file, served at /capf.crl
    std::filesystem::path file;
    std::string http_name;      ///< "capf-<SHA16>.crl" (also served under this name)
    bool renewed = false;       ///< false: the file was current and is returned as is
    CrlFacts facts;
    std::string der;
};

struct CrlOutcome {
    // The current CAPF's CRL ([crl] file).
    bool renewed = false;
    CrlFacts facts;
    std::string der;
    std::vector<PublishedCrl> crls;  ///< every CRL published, the current CAPF's first
    /// One line per CAPF that gets no CRL (a previous CAPF whose key is not
    /// available): which revocations cannot be published and why; and one per
    /// cause for revocations no CRL lists (a retired or unknown issuer, an
    /// unreadable registry row).
    std::vector<std::string> unpublished;
};

/// Reads the registry and renews every CRL of crl_issuers() that is due (or
/// all with `force`): thisUpdate = now, nextUpdate = now + validity, signed by
/// its own CAPF; written DER, mode 0644, through a temporary file and a rename,
/// all under an exclusive lock on [crl] file + ".lock" so two processes never
/// issue two CRLs with one number. A file not signed by its CAPF, or
/// unreadable, is replaced. Errors: the registry's, the file system's, and the
/// current CAPF certificate unable to sign CRLs (no cRLSign in its keyUsage, no
/// subjectKeyIdentifier: pki/crl.h crl_signer_problem), after the previous
/// CAPFs' CRLs were renewed.
Result<CrlOutcome> refresh_crl(Store& store, const CapfAuthority& capf, const CrlSettings& settings, UnixTime now,
                               bool force = false);

}  // namespace lscgate::capf
