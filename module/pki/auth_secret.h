#pragma once

// Authentication strings are stored as salted PBKDF2-SHA256 hashes and checked in
// constant time. CUCM strings are 4-16 digits, so the hash is no defence against
// an offline attacker with the database; it keeps the strings out of backups,
// logs and casual reads, which is what "stored hashed where it can be" buys.

#include "pki/result.h"

#include <string>
#include <string_view>

namespace lscgate {

// 4 to 16 decimal digits, as phones accept them on their keypad.
Status validate_auth_string(std::string_view digits);
Result<std::string> hash_auth_string(std::string_view digits);
/// Checks `candidate` against a stored "pbkdf2-sha256$iterations$salt$hash" value in
/// constant time. true/false answer "does it match"; an error says the check could
/// not be made: kind Config when the stored value is missing or malformed, Internal
/// when OpenSSL's PBKDF2 fails. Neither is the phone's fault (CAPF lockout counts
/// only wrong strings).
Result<bool> check_auth_string(std::string_view candidate, std::string_view stored_hash);
/// check_auth_string reduced to "matches" (an error never matches: fail closed).
bool verify_auth_string(std::string_view candidate, std::string_view stored_hash);
// Constant-time equality for secrets of any length (length itself is not secret).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace lscgate
