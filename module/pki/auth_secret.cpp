#include "pki/auth_secret.h"

#include "pki/bytes.h"
#include "pki/openssl_error.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>

namespace lscgate {
namespace {

constexpr int kIterations = 20000;
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
constexpr std::string_view kScheme = "pbkdf2-sha256";

Result<std::string> derive(std::string_view secret, ByteView salt, int iterations) {
    unsigned char out[kHashBytes];
    if (PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()), salt.data(), static_cast<int>(salt.size()),
                          iterations, EVP_sha256(), sizeof out, out) != 1)
        return fail(openssl_error("PBKDF2 failed"));
    return to_hex(ByteView(out, sizeof out));
}

Bytes from_hex(std::string_view hex) {
    Bytes out;
    if (hex.size() % 2 != 0) return out;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        unsigned v = 0;
        const auto [p, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, v, 16);
        if (ec != std::errc{} || p != hex.data() + i + 2) return {};
        out.push_back(static_cast<std::uint8_t>(v));
    }
    return out;
}

}  // namespace

Status validate_auth_string(std::string_view digits) {
    if (digits.size() < 4 || digits.size() > 16) return fail("authentication string must be 4 to 16 digits");
    for (char c : digits)
        if (c < '0' || c > '9') return fail("authentication string must contain only digits 0-9");
    return {};
}

Result<std::string> hash_auth_string(std::string_view digits) {
    if (auto s = validate_auth_string(digits); !s) return s.error();
    unsigned char salt[kSaltBytes];
    if (RAND_bytes(salt, sizeof salt) != 1) return fail(openssl_error("no randomness for salt"));
    auto hash = derive(digits, ByteView(salt, sizeof salt), kIterations);
    if (!hash) return hash.error();
    return std::string(kScheme) + "$" + std::to_string(kIterations) + "$" + to_hex(ByteView(salt, sizeof salt)) + "$" +
           *hash;
}

Result<bool> check_auth_string(std::string_view candidate, std::string_view stored_hash) {
    // Format: scheme$iterations$salt$hash. A stored value in any other shape is a
    // registry fault, not a wrong guess: it is reported as such and never matches.
    const auto p1 = stored_hash.find('$');
    const auto p2 = stored_hash.find('$', p1 == std::string_view::npos ? p1 : p1 + 1);
    const auto p3 = stored_hash.find('$', p2 == std::string_view::npos ? p2 : p2 + 1);
    const Error malformed = fail(ErrorKind::Config, "the stored authentication-string hash is missing or malformed "
                                                    "(reschedule the operation with a new string)");
    if (p1 == std::string_view::npos || p2 == std::string_view::npos || p3 == std::string_view::npos) return malformed;
    if (stored_hash.substr(0, p1) != kScheme) return malformed;
    int iterations = 0;
    const auto it = stored_hash.substr(p1 + 1, p2 - p1 - 1);
    if (std::from_chars(it.data(), it.data() + it.size(), iterations).ec != std::errc{} || iterations < 1 ||
        iterations > 10'000'000)
        return malformed;
    const Bytes salt = from_hex(stored_hash.substr(p2 + 1, p3 - p2 - 1));
    if (salt.empty()) return malformed;
    auto computed = derive(candidate, salt, iterations);
    if (!computed) return computed.error();  // Internal: OpenSSL failed, not the phone
    return constant_time_equal(*computed, stored_hash.substr(p3 + 1));
}

bool verify_auth_string(std::string_view candidate, std::string_view stored_hash) {
    auto r = check_auth_string(candidate, stored_hash);
    return r && *r;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace lscgate
