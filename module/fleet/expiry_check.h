#pragma once

// `lscgate check`: expiry of everything a phone's LSC depends on, for a
// monitoring system (issue 10 item 6): the CAPF certificate(s) — current,
// previous and the chain sent in the handshake —, every active LSC, the MIC
// roots CAPF and RADIUS use, and the nextUpdate of the CRLs lscgate publishes
// (issue 12). Thresholds and the time are parameters.

#include "pki/certificate.h"
#include "pki/crl.h"
#include "pki/expiry.h"
#include "pki/result.h"
#include "registry/store.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lscgate {

/// One certificate looked at.
struct ExpiryItem {
    std::string role;  ///< "CAPF current", "CAPF previous", "CAPF chain", "LSC", "MIC root", "CRL"
    std::string name;  ///< the device (LSC), the subject (CA certificates) or the file (CRL)
    std::string serial;  ///< the cRLNumber for a CRL
    UnixTime not_after = 0;  ///< nextUpdate for a CRL
    ExpiryLevel level = ExpiryLevel::Ok;
    std::string problem;  ///< why it could not be read (a CRL file that is not a CRL): then CRITICAL
};

struct ExpiryThresholds {
    std::int64_t warn_seconds = 30 * 86400;
    std::int64_t crit_seconds = 7 * 86400;
};

struct ExpiryCheck {
    ExpiryLevel level = ExpiryLevel::Ok;  ///< the worst of every item
    std::vector<ExpiryItem> capf;         ///< every CAPF certificate, earliest first
    std::vector<ExpiryItem> mic_roots;    ///< every MIC root, earliest first
    std::size_t active_lscs = 0;
    std::vector<ExpiryItem> lscs_flagged;  ///< active LSCs at warning or critical, earliest first
    std::optional<ExpiryItem> earliest_lsc;
    std::vector<ExpiryItem> crls;  ///< every CRL checked, earliest nextUpdate first

    /// The one line a monitoring plugin prints: "LSCGATE WARNING - …" then
    /// " | " and performance data (Nagios plugin guidelines, "Performance data").
    std::string summary(UnixTime now, const ExpiryThresholds& t) const;
};

/// A CA certificate to check, with its role.
struct RoleCertificate {
    std::string role;
    CertificateFacts facts;
};

/// A CRL lscgate publishes: its file and what it says, or why it cannot be read.
struct CrlToCheck {
    std::string name;
    CrlFacts facts;
    std::string problem;  ///< non-empty: the file is not a readable CRL (graded CRITICAL, not UNKNOWN:
                          ///< head-ends and FreeRADIUS check_crl cannot use it either)
};

/// The level of a CRL at `now`. CRITICAL from its nextUpdate on: the ASA and
/// FreeRADIUS check_crl then refuse every LSC of its CAPF ("CRL has expired").
/// WARNING when nextUpdate is within the warn span, that span capped at a
/// quarter of the CRL's validity (nextUpdate − thisUpdate): lscgate renews a
/// CRL once half of its validity has passed, so a CRL that is renewed on time
/// never has less than half left, and the 30-day default would otherwise flag
/// every healthy 7-day CRL. Less than a quarter left means renewal has stopped
/// (serve down, the CAPF key unreadable) for at least a quarter of the validity.
ExpiryLevel crl_level(const CrlFacts& crl, UnixTime now, const ExpiryThresholds& thresholds);

/// Grades `cas` (CAPF and MIC-root certificates, role "MIC root" for the latter),
/// every active LSC of the registry (streamed: memory grows with the flagged
/// ones only) and `crls` (crl_level). Errors: the registry's.
Result<ExpiryCheck> check_expiry(Store& store, const std::vector<RoleCertificate>& cas, UnixTime now,
                                 const ExpiryThresholds& thresholds, const std::vector<CrlToCheck>& crls = {});

}  // namespace lscgate
