#pragma once

#include "pki/bytes.h"
#include "pki/openssl_handles.h"
#include "pki/result.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lscgate {

using UnixTime = std::int64_t;

Result<X509Ptr> parse_certificate_der(ByteView der);
Result<X509Ptr> parse_certificate_pem(const std::string& pem);
// Every certificate in a PEM bundle, in file order; an empty bundle is an error.
Result<std::vector<X509Ptr>> parse_certificate_bundle(const std::string& pem);
Result<X509Ptr> load_certificate(const std::filesystem::path& path);
Result<std::vector<X509Ptr>> load_certificate_bundle(const std::filesystem::path& path);

Bytes certificate_der(const X509* cert);
std::string certificate_pem(const X509* cert);

// Facts about a certificate in the forms the store, the CLI and FreeRADIUS use.
struct CertificateFacts {
    std::string serial_hex;        // upper-case hex, no leading zero bytes
    std::string sha256;            // upper-case hex, no separators
    std::string subject;           // RFC 2253 string, e.g. "CN=SEP001122334455,O=Lab"
    std::string issuer;            // RFC 2253
    std::string subject_oneline;   // OpenSSL oneline "/O=Lab/CN=SEP..." (as FreeRADIUS prints it)
    std::string issuer_oneline;
    std::string common_name;       // last CN of the subject, "" when absent
    UnixTime not_before = 0;
    UnixTime not_after = 0;
    std::string key_type;          // "rsa" / "ec"
    int key_bits = 0;
    bool is_ca = false;
};

Result<CertificateFacts> describe_certificate(const X509* cert);

std::string sha256_hex(ByteView data);
Result<UnixTime> asn1_time_to_unix(const ASN1_TIME* t);
std::string format_utc(UnixTime t);  // "2026-11-28T18:42:13Z"

}  // namespace lscgate
