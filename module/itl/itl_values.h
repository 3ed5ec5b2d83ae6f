#pragma once

// Reading the values of ITL/CTL fields the way real files write them
// (FORMAT.md, "What real files do"): strings with or without their NUL, names in
// quotes and padded with spaces, DNs joined with ';'.

#include "itl/itl_file.h"
#include "pki/bytes.h"

#include <cstdint>
#include <optional>
#include <string>

namespace lscgate::itl {

/// A string field's text: its bytes up to the first NUL (a missing NUL is tolerated).
std::string field_text(const Field& field);

/// A big-endian unsigned value of 1, 2 or 4 bytes.
std::uint32_t field_number(const Field& field);

/// A name as written, made comparable: surrounding spaces and one pair of quotes
/// removed, RDNs split at unescaped ',' or ';', each trimmed, empty ones dropped,
/// joined with ','. "  \"CN=a; OU=b \" " -> "CN=a,OU=b".
std::string normalize_name(const std::string& name);

/// Two names equal after normalize_name, ignoring ASCII case.
bool same_name(const std::string& a, const std::string& b);

/// A serial number's magnitude: leading zero bytes removed (tools differ on a
/// sign byte), as upper-case hex.
std::string serial_hex(ByteView serial);

/// IPADDRESS as text: dotted IPv4 for 4 bytes, IPv6 for 16, else upper-case hex.
std::string address_text(ByteView address);

/// Upper-case hex digest of `data` with an OpenSSL digest name ("SHA1", "SHA256", "SHA512");
/// empty when the digest is unavailable.
std::string digest_hex(ByteView data, const char* digest_name);

}  // namespace lscgate::itl
