#pragma once

// A test-side ITL/CTL writer (module/itl/FORMAT.md, "Shape" and "Signature"), so
// the tests build files in every real shape instead of carrying binary blobs:
// tlvfile's header order 1, 2, 28, 3{4, 6, 5}, 7{8, 9{10, 11}}, 12, 14, 15, padding;
// records in any field order the test gives.

#include "pki/bytes.h"
#include "pki/openssl_handles.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lscgate::test {

struct TlvItem {
    std::uint8_t tag = 0;
    Bytes value;
};

Bytes text_value(const std::string& text, bool with_nul = true);  // NUL-terminated string
Bytes u8_value(std::uint8_t v);
Bytes u16_value(std::uint16_t v);
Bytes u32_value(std::uint32_t v);

/// A record's fields; build_itl prepends RECORDLENGTH.
struct ItlRecordSpec {
    std::vector<TlvItem> fields;
};

/// A certificate record in tlvfile's order 3, 5, 6, 4, 7, 8, 9 with the names as given
/// (the test chooses how they are written: quoted, padded, ';'-joined), preceded by
/// DNSNAME when `dns` is given.
ItlRecordSpec certificate_record(const X509* cert, std::uint16_t function, const std::string& subject_text,
                                 const std::string& issuer_text, const std::string* dns = nullptr);
/// A server entry without a certificate, as non-secure CTLs carry: DNSNAME holding the
/// IPv4 address as text, FUNCTION, a 4-byte IPADDRESS.
ItlRecordSpec server_record(const std::string& dns_text, std::uint16_t function, const std::vector<std::uint8_t>& ipv4);

struct ItlSpec {
    bool signer_version_tag = true;  ///< tag 28 after HEADERLENGTH
    std::string signer_name;         ///< SIGNERNAME text as written
    std::string ca_name;             ///< CANAME text as written
    Bytes signer_serial;             ///< raw serial
    std::uint8_t digest_code = 1;    ///< 1 SHA-1, 2 SHA-256, 3 SHA-512
    std::string filename = "ITLFile.tlv";
    std::uint32_t timestamp = 1735689600;  // 2025-01-01T00:00:00Z
    std::vector<ItlRecordSpec> records;
};

/// The file bytes; signed with `signer` (RSA) when given, else without SIGNATURE.
Bytes build_itl(const ItlSpec& spec, EVP_PKEY* signer);

/// Offset of the SIGNATURE TLV in a signed file built by build_itl (for tamper tests).
std::size_t signature_offset(const ItlSpec& spec);

/// A self-signed certificate with `md` ("SHA1", "SHA256") as signature hash, serial
/// as given (raw big-endian), valid from now-1d for `days` (days < 0: expired since -days days).
X509Ptr make_self_signed(EVP_PKEY* key, const std::string& subject, const char* md, const Bytes& serial, int days = 3650);

/// The certificate's serial, raw big-endian magnitude.
Bytes serial_bytes(const X509* cert);

}  // namespace lscgate::test
