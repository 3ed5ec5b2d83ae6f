#pragma once

// `itl show`: the header and every record as tag / length / value, the way CUCM's
// `show itl` prints them (certificates by SHA-1 hash), as JSON or as text.

#include "itl/itl_file.h"

#include <nlohmann/json.hpp>

#include <string>

namespace lscgate::itl {

/// One field: {"offset", "tag", "name", "length", "value"} plus, by kind, "role"
/// (FUNCTION), "algorithm" (hash codes), "bits" (SIGNATUREMODULUS), "normalized"
/// (names), "container"/"depth", "padding", and for CERTIFICATE "sha1" (also the
/// value), "sha256" and "certificate" (subject, issuer, serial, not_before,
/// not_after, key, signature_algorithm) or "certificate_error". Text values have
/// every byte outside printable ASCII escaped (pki/printable.h); bytes are upper-case hex.
nlohmann::json field_json(const Field& field, bool in_header);

/// {"size", "version", "header_length", "header": [fields], "signed": bool,
///  "signer_record": n|null (1-based), "records": [{"index" (1-based), "offset",
///  "length", "function", "role", "fields": [...]}]}.
nlohmann::json file_json(const File& file);

/// The same facts as text, one line per field.
std::string file_text(const File& file);

}  // namespace lscgate::itl
