#pragma once

#include <string>

namespace lscgate {

// Drains OpenSSL's thread-local error queue into one line, prefixed by `what`,
// so a failure reports the library's reason instead of a bare "failed".
std::string openssl_error(const std::string& what);

}  // namespace lscgate
