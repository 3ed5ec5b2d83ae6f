#include "web/password_hash.h"

#include <argon2.h>
#include <openssl/rand.h>

#include <array>
#include <vector>

namespace lscgate::web {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;

}  // namespace

Status check_password_policy(std::string_view password) {
    if (password.size() < kMinPasswordLength)
        return fail(ErrorKind::Input, "the password is too short: at least " + std::to_string(kMinPasswordLength) +
                                          " characters");
    if (password.size() > kMaxPasswordLength)
        return fail(ErrorKind::Input, "the password is too long: at most " + std::to_string(kMaxPasswordLength) +
                                          " bytes");
    if (password.find_first_of(std::string_view("\0\r\n", 3)) != std::string_view::npos)
        return fail(ErrorKind::Input, "the password must not hold a NUL or a line break");
    return {};
}

Result<std::string> hash_password(std::string_view password, const Argon2Params& params) {
    std::array<unsigned char, kSaltBytes> salt{};
    if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) return fail("no randomness for a password salt");
    const std::size_t length =
        argon2_encodedlen(params.passes, params.memory_kib, params.lanes, kSaltBytes, kHashBytes, Argon2_id);
    std::vector<char> encoded(length + 1, '\0');
    const int rc = argon2id_hash_encoded(params.passes, params.memory_kib, params.lanes, password.data(),
                                         password.size(), salt.data(), salt.size(), kHashBytes, encoded.data(),
                                         encoded.size());
    if (rc != ARGON2_OK) return fail(std::string("Argon2id hashing failed: ") + argon2_error_message(rc));
    return std::string(encoded.data());
}

Result<bool> verify_password(std::string_view password, const std::string& encoded) {
    if (encoded.rfind("$argon2id$", 0) != 0) return fail("the stored password hash is not Argon2id");
    const int rc = argon2id_verify(encoded.c_str(), password.data(), password.size());
    if (rc == ARGON2_OK) return true;
    if (rc == ARGON2_VERIFY_MISMATCH) return false;
    return fail(std::string("the stored password hash cannot be checked: ") + argon2_error_message(rc));
}

}  // namespace lscgate::web
