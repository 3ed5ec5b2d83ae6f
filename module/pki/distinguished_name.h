#pragma once

#include "pki/openssl_handles.h"
#include "pki/result.h"

#include <string_view>

namespace lscgate {

// Accepts the two spellings administrators paste: OpenSSL oneline "/C=US/O=Lab/CN=CAPF-1"
// and RFC 2253-style "CN=CAPF-1,O=Lab,C=US" (a "\," keeps a comma inside a value).
// Both produce the same certificate name: "CN=a,O=b" equals "/O=b/CN=a".
Result<X509NamePtr> parse_distinguished_name(std::string_view text);

}  // namespace lscgate
