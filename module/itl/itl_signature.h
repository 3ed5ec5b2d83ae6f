#pragma once

// `itl verify`: the file signature checked with the signer record's certificate
// (FORMAT.md, Signature). Integrity only; trust comes from outside the file.

#include "itl/itl_file.h"
#include "pki/bytes.h"

#include <cstddef>
#include <optional>
#include <string>

namespace lscgate::itl {

enum class SignatureVerdict {
    Valid,          ///< RSASSA-PKCS1-v1_5 over the file without its SIGNATURE TLV checks out
    Invalid,        ///< the signature does not match (file altered, or another key signed it)
    Unsigned,       ///< no SIGNATURE tag in the header
    SignerMissing,  ///< no record with the SIGNERID serial and a certificate
    Unsupported,    ///< hash code or signature algorithm we cannot check, or a signer key that is not RSA
};

/// Short stable name ("valid", "invalid", "unsigned", "signer-missing", "unsupported").
const char* to_string(SignatureVerdict verdict);

struct SignatureCheck {
    SignatureVerdict verdict = SignatureVerdict::Unsigned;
    std::optional<std::size_t> signer_record;  ///< index into File::records
    std::string digest;                        ///< "SHA1", "SHA256", "SHA512"; "" when unknown
    int signature_bits = 0;                    ///< SIGNATURE length in bits
    std::string signer_serial;                 ///< SIGNERID serial, hex
    std::string detail;                        ///< why, in words (notes such as a modulus code mismatch too)
};

/// The signer record of `file` for SIGNERID: serial equal (leading zeros ignored) and a
/// CERTIFICATE; among several, the one whose ISSUERNAME matches CANAME, then role SAST.
std::optional<std::size_t> find_signer(const File& file);

/// Checks the signature of `file`, parsed from exactly `data`.
SignatureCheck verify_signature(const File& file, ByteView data);

}  // namespace lscgate::itl
