#pragma once

// `lscgate check`: expiry of everything a phone's LSC depends on, for a
// monitoring system (issue 10 item 6): the CAPF certificate(s) — current,
// previous and the chain sent in the handshake —, every active LSC, and the MIC
// roots CAPF and RADIUS use. Thresholds and the time are parameters.

#include "pki/certificate.h"
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
    std::string role;  ///< "CAPF current", "CAPF previous", "CAPF chain", "LSC", "MIC root"
    std::string name;  ///< the device (LSC) or the subject (CA certificates)
    std::string serial;
    UnixTime not_after = 0;
    ExpiryLevel level = ExpiryLevel::Ok;
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

    /// The one line a monitoring plugin prints: "LSCGATE WARNING - …" then
    /// " | " and performance data (Nagios plugin guidelines, "Performance data").
    std::string summary(UnixTime now, const ExpiryThresholds& t) const;
};

/// A CA certificate to check, with its role.
struct RoleCertificate {
    std::string role;
    CertificateFacts facts;
};

/// Grades `cas` (CAPF and MIC-root certificates, role "MIC root" for the latter)
/// and every active LSC of the registry (streamed: memory grows with the
/// flagged ones only). Errors: the registry's.
Result<ExpiryCheck> check_expiry(Store& store, const std::vector<RoleCertificate>& cas, UnixTime now,
                                 const ExpiryThresholds& thresholds);

}  // namespace lscgate
