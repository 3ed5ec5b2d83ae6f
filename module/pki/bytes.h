#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lscgate {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Upper-case hex without separators (serials, fingerprints in the store).
std::string to_hex(ByteView data);
// Upper-case hex with ':' between bytes (how administrators read fingerprints).
std::string to_colon_hex(ByteView data);

}  // namespace lscgate
