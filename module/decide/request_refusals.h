#pragma once

// Requests rlm_lscgate refuses before any certificate is classified, and the one
// log line every answer becomes. Pure functions over what the FreeRADIUS glue saw.

#include "decide/decision_engine.h"

#include <optional>
#include <string>
#include <string_view>

namespace lscgate {

// A refusal for a request that cannot be decided honestly, or nullopt:
// - an attribute the module reads came with several values (ambiguous: never
//   decided on the first one);
// - post-auth after an EAP method other than EAP-TLS succeeded (no client
//   certificate; phones authenticate with their LSC only), named by EAP-Type.
// The Decision carries verdict Reject, a class (unknown-issuer when a client
// certificate or EAP is involved, lsc-unregistered for a plain request) and the cause.
std::optional<Decision> request_refusal(const RadiusRequest& request);

// Who a log line names: the decision's device, else, for a certificate without a
// CN, "(no CN) " + the full subject (never the CN FreeRADIUS 3.2.1 substitutes,
// which is the issuing CA's), else "-".
std::string subject_label(const CertificateAttributeText& cert, const std::string& device);

// "reject [lsc-revoked] SEP…: SEP… LSC serial … is revoked (NAS 10.1.2.3)";
// errors: "error [error] …: … (NAS …) - failing closed"; noop: "noop: <reason>".
std::string radius_log_line(const RadiusAnswer& answer, std::string_view nas);

}  // namespace lscgate
