#pragma once

// CAPF proof of possession (module/capf/PROTOCOL.md §7.3/§7.4): a signature over the
// bare digest of a message. RSA proofs are raw PKCS#1 v1.5 type-1 blocks with no
// DigestInfo prefix; EC proofs are ordinary ECDSA over the digest.

#include "pki/bytes.h"
#include "pki/result.h"

#include <openssl/evp.h>

namespace lscgate {

enum class ProofHash { Sha1, Sha512 };

Bytes proof_digest(ProofHash hash, ByteView message);

Result<Bytes> sign_proof(EVP_PKEY* key, ProofHash hash, ByteView message);

// Checks the full PKCS#1 type-1 padding (not only the trailing digest bytes),
// and accepts an EC signature either DER-encoded or as raw r||s. Errors: AuthFailed
// when the signature does not verify or the key is neither RSA nor EC; Internal
// when OpenSSL cannot set up the check (never the signer's fault).
Status verify_proof(EVP_PKEY* key, ProofHash hash, ByteView message, ByteView signature);

// M = DEVICE_NAME bytes || 0x00 || DER(certificate)
Bytes certificate_proof_message(const std::string& device_name, ByteView cert_der);

}  // namespace lscgate
