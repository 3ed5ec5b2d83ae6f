#pragma once

// A phone's public key as it arrives in KEY_GENERATE_RESPONSE: a DER
// SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), read and checked without OpenSSL 3's
// decoders. d2i_X509_PUBKEY / d2i_PUBKEY decode through OSSL_DECODER, whose
// set-up on every call (every decoder of every provider looked up) cost about a
// tenth of `lscgate serve`'s CPU per enrolment (issue 9 item 2); the LSC only
// needs the key's encoding copied, and the checks below need no EVP_PKEY.

#include "pki/bytes.h"
#include "pki/key_spec.h"
#include "pki/openssl_handles.h"
#include "pki/result.h"

namespace lscgate {

/// Reads a DER SubjectPublicKeyInfo into an X509_PUBKEY holding its algorithm
/// and key bits as received, never decoded into an EVP_PKEY: X509_PUBKEY_get0()
/// of the result is NULL (describe_spki() says what it holds), and
/// CapfAuthority::issue_lsc copies it into an LSC verbatim.
/// The contents are checked as a decoder would: an RSA key must be an
/// RSAPublicKey with a positive modulus and exponent; an EC key on P-256, P-384
/// or P-521 must be a point on that curve (not the point at infinity). Keys of
/// other algorithms or curves are kept as read: describe_spki() refuses them.
/// Errors (Input): not one DER SubjectPublicKeyInfo, bytes after it, a key
/// bit string with unused bits, or contents that fail the checks above.
Result<X509PubkeyPtr> parse_subject_public_key_info(ByteView spki_der);

/// Sets `to` (an X509_PUBKEY, e.g. a certificate's) to the algorithm `alg` and
/// key bits `bits` (`size` bytes), copied as they are, without decoding the key.
/// Errors: parameters of an unsupported ASN.1 type (Input), out of memory.
Status set_subject_public_key_info(X509_PUBKEY* to, const X509_ALGOR* alg, const unsigned char* bits, int size);

/// The key type and size of a SubjectPublicKeyInfo (RSA modulus bits, EC named
/// curve), read from its encoding: works on certificates built from raw
/// parameters, whose X509_get0_pubkey() is NULL. Agrees with describe_key() on
/// the decoded key. Errors (Input): an algorithm other than rsaEncryption or
/// id-ecPublicKey ("unsupported key algorithm ..."), an EC key without a named
/// curve or on another curve, an unreadable RSA key.
Result<KeySpec> describe_spki(const X509_PUBKEY* spki);

}  // namespace lscgate
