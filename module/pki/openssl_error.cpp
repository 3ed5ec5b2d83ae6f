#include "pki/openssl_error.h"

#include <openssl/err.h>

namespace lscgate {

std::string openssl_error(const std::string& what) {
    std::string out = what;
    bool first = true;
    unsigned long code = 0;
    while ((code = ERR_get_error()) != 0) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        out += first ? ": " : "; ";
        out += buf;
        first = false;
    }
    return out;
}

}  // namespace lscgate
