#pragma once

#include "pki/bytes.h"
#include "pki/key_spec.h"
#include "pki/openssl_handles.h"
#include "pki/result.h"

#include <filesystem>
#include <string>

namespace lscgate {

Result<EvpPkeyPtr> generate_key(const KeySpec& spec);

// The spec a public key satisfies (RSA modulus size, or named curve).
Result<KeySpec> describe_key(const EVP_PKEY* key);

Result<EvpPkeyPtr> parse_public_key_der(ByteView spki_der);
// (A SubjectPublicKeyInfo kept as received, without decoding it: pki/spki.h.)
Result<Bytes> public_key_der(const EVP_PKEY* key);

Result<EvpPkeyPtr> parse_private_key_pem(const std::string& pem);
Result<std::string> private_key_pem(const EVP_PKEY* key);
// Refuses a file group or others may access (check_secret_file_mode: "chmod 600").
Result<EvpPkeyPtr> load_private_key(const std::filesystem::path& path);
Status save_private_key(const std::filesystem::path& path, const EVP_PKEY* key, bool synced = true);

// True when the two keys are the same public key (certificate/key pairing).
bool same_public_key(const EVP_PKEY* a, const EVP_PKEY* b);

}  // namespace lscgate
