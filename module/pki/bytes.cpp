#include "pki/bytes.h"

namespace lscgate {
namespace {
constexpr char kHexDigits[] = "0123456789ABCDEF";
}

std::string to_hex(ByteView data) {
    std::string out;
    out.reserve(data.size() * 2);
    for (auto b : data) {
        out.push_back(kHexDigits[b >> 4]);
        out.push_back(kHexDigits[b & 0x0f]);
    }
    return out;
}

std::string to_colon_hex(ByteView data) {
    std::string out;
    out.reserve(data.size() * 3);
    for (std::size_t i = 0; i < data.size(); ++i) {
        if (i != 0) out.push_back(':');
        out.push_back(kHexDigits[data[i] >> 4]);
        out.push_back(kHexDigits[data[i] & 0x0f]);
    }
    return out;
}

}  // namespace lscgate
