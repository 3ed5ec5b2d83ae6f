#pragma once

// Web account passwords (issue 14): Argon2id (RFC 9106) through libargon2
// (Debian libargon2-dev), stored as the PHC encoded string
// "$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt b64>$<hash b64>", which
// carries its own parameters and salt, so stronger parameters later never
// invalidate a stored hash.

#include "pki/result.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace lscgate::web {

/// Argon2id cost. The default is RFC 9106's second recommended option (64 MiB,
/// 3 passes, 1 lane): about 0.1 s a hash on one core, which bounds online guessing
/// per core and makes an offline guess as costly in memory as in time.
struct Argon2Params {
    std::uint32_t memory_kib = 64 * 1024;
    std::uint32_t passes = 3;
    std::uint32_t lanes = 1;
};

/// Shortest and longest password an account may have (bytes). The upper bound
/// keeps a request from making the server hash megabytes.
inline constexpr std::size_t kMinPasswordLength = 12;
inline constexpr std::size_t kMaxPasswordLength = 1024;

/// Errors (Input): shorter than kMinPasswordLength, longer than
/// kMaxPasswordLength, or holding a NUL or a line break (what a terminal or a
/// form could not have typed back).
Status check_password_policy(std::string_view password);

/// The Argon2id encoded hash of `password` with a fresh 16-byte salt from
/// RAND_bytes. Errors (Internal): no randomness, libargon2 failed (out of memory).
Result<std::string> hash_password(std::string_view password, const Argon2Params& params = {});

/// Whether `password` matches `encoded` (libargon2 compares in constant time).
/// Errors (Internal): `encoded` is not an Argon2id hash libargon2 can read — a
/// corrupt row must not read as a wrong password, nor as a right one.
Result<bool> verify_password(std::string_view password, const std::string& encoded);

}  // namespace lscgate::web
