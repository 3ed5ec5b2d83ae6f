#pragma once

// Which CRLs the CAPF publishes and what each one lists (RFC 5280 §5).
//
// One CRL per CAPF certificate that is not retired: the configured one
// ([capf] cert, "current") and every other current or previous CAPF
// certificate of the registry. Each is signed by that CAPF's own key: a CRL
// names its issuer and verifiers check it with the issuer's key (§6.3.3), so a
// CRL signed by another CAPF, even one with the same subject, is worthless for
// its LSCs. The configured key signs the current CAPF's CRL, and the CRL of a
// previous CAPF certificate that carries the same key (a renewal that kept
// it); another previous CAPF's key is looked for as KEY_DIR/capf-<SHA16>.key
// (SHA16: the first 16 hex digits of that CAPF certificate's SHA-256). Without
// it, that CAPF gets no CRL and the revocations of its LSCs are reported as
// not published.
//
// An LSC belongs to the CAPF that issued it (pki/crl.h certificate_issued_by:
// issuer name as DER, then authorityKeyIdentifier against subjectKeyIdentifier,
// or the signature): two CAPF certificates can share a subject (a re-key under
// the same name). Listed: revoked LSCs (reason from `revoke --reason`), and with
// [crl] include_superseded the superseded ones (reason superseded, dated when
// the device's next LSC was recorded), until their notAfter (RFC 5280 §3.3: an
// expired certificate may leave the CRL). Not listed: MICs, LSCs of retired or
// unknown CAPFs.

#include "pki/certificate.h"
#include "pki/crl.h"
#include "pki/issuer.h"
#include "registry/store.h"

#include <filesystem>
#include <string>
#include <vector>

namespace lscgate::capf {

struct CrlSettings {
    std::filesystem::path file;  ///< the current CAPF's CRL; absolute, or relative to the current directory
    int validity_s = 7 * 86400;
    bool include_superseded = false;
    /// Where a previous CAPF's key is looked for (capf-<SHA16>.key); empty: the
    /// directory of `file`.
    std::filesystem::path key_dir;
};

/// "capf-" and the first 16 hex digits of `capf`'s SHA-256: the name of that
/// CAPF's CRL over HTTP ("/capf-<SHA16>.crl") and of its kept key.
std::string capf_name_stem(const CertificateFacts& capf);

/// Where the key of a CAPF that is no longer the configured one is kept so it
/// can still sign the CRL of its LSCs: KEY_DIR/capf-<SHA16>.key (a rotation by
/// `lscgate init --force` or `capf import` puts it there; `capf retire`
/// deletes it).
std::filesystem::path kept_capf_key_file(const std::filesystem::path& key_dir, const CertificateFacts& capf);

/// Where a previous CAPF's CRL lives: [crl] file's stem, "-", the first 16 hex
/// digits of its SHA-256, [crl] file's extension ("capf-0A1B2C3D4E5F6071.crl").
std::filesystem::path previous_crl_file(const CrlSettings& settings, const CertificateFacts& capf);

/// One CAPF certificate that gets a CRL of its own.
struct CrlIssuer {
    X509Ptr cert;
    EvpPkeyPtr key;  ///< null when not available (`problem` says why)
    CertificateFacts facts;
    bool current = false;         ///< the configured [capf] cert
    std::filesystem::path file;   ///< [crl] file for the current one, FILESTEM-<SHA16>.EXT beside it otherwise
    std::string problem;          ///< why no CRL can be signed for it; "" when one can
    /// The registry's current CAPF while this process runs another (a rotation
    /// it has not been reloaded for): labelled as such, never as "previous".
    bool newer = false;
    /// "current CAPF CN=… (SHA-256 0A1B2C3D4E5F6071)".
    std::string label() const;
};

/// The CAPFs that get a CRL, the current one (`current`, its key included)
/// first, then every other non-retired CAPF certificate of the registry with
/// its key from settings.key_dir when one there matches it. `problem` is set
/// when a key is missing, unreadable or another certificate's, and when the
/// certificate cannot sign CRLs (pki/crl.h crl_signer_problem). Errors: the
/// registry's, an unreadable certificate in it.
Result<std::vector<CrlIssuer>> crl_issuers(Store& store, const CapfAuthority& current, const CrlSettings& settings);

/// One LSC a CRL lists.
struct ListedLsc {
    CrlEntry entry;
    std::string device;
};

/// A revoked (or, when asked, superseded) LSC that no CRL of `capfs` lists.
struct UnlistedLsc {
    ListedLsc lsc;
    std::string why;  ///< "unreadable in the registry", "issued by no CAPF that is current or previous"
};

/// What the CRL of each of `capfs` lists at `now` (see the file comment), in
/// the same order, each sorted as a CRL is (by serial as a number). An LSC is
/// listed by every CAPF that issued it. `unlisted` (when not null) receives
/// every LSC that should be listed but is listed by none: its row's PEM does not
/// parse, or its issuer is a retired or unknown CAPF — a head-end that still
/// trusts that issuer would go on accepting it, so callers say so.
/// Errors: the registry's.
Result<std::vector<std::vector<ListedLsc>>> crl_listings(Store& store, const std::vector<const X509*>& capfs,
                                                         bool include_superseded, UnixTime now,
                                                         std::vector<UnlistedLsc>* unlisted = nullptr);

/// The entries of `capf`'s CRL alone (crl_listings for one CAPF).
Result<std::vector<CrlEntry>> crl_entries(Store& store, const X509* capf, bool include_superseded, UnixTime now);

}  // namespace lscgate::capf
