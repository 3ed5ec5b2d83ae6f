#pragma once

// Distinguished names as text: the one place that reads a DN string, whether an
// administrator typed it, FreeRADIUS printed it (TLS-Client-Cert-Subject, OpenSSL
// oneline) or an ASA sent it as a VPN User-Name (RFC 2253 style).

#include "pki/openssl_handles.h"
#include "pki/result.h"

#include <string>
#include <string_view>

namespace lscgate {

// Accepts the two spellings administrators paste: OpenSSL oneline "/C=US/O=Lab/CN=CAPF-1"
// and RFC 2253-style "CN=CAPF-1,O=Lab,C=US" (a "\," keeps a comma inside a value).
// Both produce the same certificate name: "CN=a,O=b" equals "/O=b/CN=a".
Result<X509NamePtr> parse_distinguished_name(std::string_view text);

// The last CN value of an OpenSSL oneline DN, the form FreeRADIUS prints
// ("/O=x/CN=y" → "y"). A value runs to the next "/ATTR=", so a '/' inside a value
// stays ("/O=A/B Corp/CN=x/y" → "x/y"); a bare "CN=y" gives "y"; "" without a CN.
std::string common_name_of_oneline(std::string_view dn);

// Whether the oneline DN has an RDN "/CN=<cn>" (followed by the end or the next '/').
bool oneline_has_common_name(std::string_view dn, std::string_view cn);

// The CN of a DN in either spelling parse_distinguished_name() accepts: oneline
// (as common_name_of_oneline) or RFC 2253 ("CN=SEP…, OU=Voice": the first
// component whose attribute is CN in any case, leading spaces ignored); "" when
// there is none. Never fails: the caller decides what a missing CN means.
std::string common_name_of_distinguished_name(std::string_view dn);

// `oneline` with the value of its last "/CN=" replaced by `cn` (the value ends
// where common_name_of_oneline() says); "" when `oneline` has no "/CN=".
std::string with_common_name(std::string_view oneline, std::string_view cn);

}  // namespace lscgate
