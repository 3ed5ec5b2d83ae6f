#pragma once

// `lscgate revoke NAME --disconnect` (or [coa] on_revoke = true): once the
// revocation is committed, each switch the phone last authenticated through
// (its last-seen rows, one per RADIUS node) gets one RFC 5176 request that ends
// or re-authenticates the phone's session, so the revoked LSC stops working now
// rather than at the next re-authentication (module/coa/COA.md).

#include "coa/coa_request.h"
#include "pki/result.h"
#include "registry/config.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lscgate::cli {

/// What the command line adds to [coa].
struct RevokeCoaOptions {
    std::optional<CoaMode> mode;          ///< --coa-mode; else [coa] mode
    std::vector<std::string> last_seen;   ///< --last-seen FILE (repeatable); else [coa] last_seen
};

/// What was sent and how each NAS answered.
struct RevokeCoaResult {
    std::vector<std::string> lines;                    ///< "coa DEVICE nas=IP:PORT ACK|NAK (…)|timeout after N tries|error: …"
    nlohmann::json json = nlohmann::json::array();     ///< one object per NAS: nas, port, mode, result, tries, error_cause, error
    std::size_t targets = 0;                           ///< NAS the device was seen through
    std::size_t not_acked = 0;                         ///< of those, the ones that did not answer ACK
    std::optional<Error> error;                        ///< nothing could be sent (last-seen or secrets unreadable)
};

/// Sends the CoA for `device` (its registry name) to each distinct NAS of its
/// last-seen rows, with the [coa] settings of `cfg` and `options`; `now` (Unix
/// seconds) goes into Event-Timestamp. A device never seen has no session: no
/// NAS, nothing sent, not an error. Never throws.
RevokeCoaResult send_revoke_coa(const Config& cfg, const std::string& device, const RevokeCoaOptions& options,
                                std::int64_t now);

}  // namespace lscgate::cli
