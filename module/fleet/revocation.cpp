#include "fleet/revocation.h"

#include "pki/presented_certificate.h"
#include "pki/printable.h"
#include "registry/device_name.h"

#include <algorithm>
#include <cctype>

namespace lscgate {

Status check_revocation_reason(std::string_view reason) {
    if (std::find(kRevocationReasons.begin(), kRevocationReasons.end(), reason) != kRevocationReasons.end()) return {};
    std::string all;
    for (auto r : kRevocationReasons) all += (all.empty() ? "" : "|") + std::string(r);
    return fail(ErrorKind::Input, "invalid --reason '" + escape_nonprintable(reason) + "': " + all);
}

Result<std::string> parse_serial_text(std::string_view serial) {
    const std::string_view digits = serial.rfind("0x", 0) == 0 ? serial.substr(2) : serial;
    const bool hex_only = std::all_of(digits.begin(), digits.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':';
    });
    const std::string hex = hex_only ? normalize_serial(serial) : std::string();
    if (hex.empty()) return fail(ErrorKind::Input, "invalid --serial '" + escape_nonprintable(serial) + "': expected hex");
    return hex;
}

Result<CertificateRecord> revoke_device_lsc(Store& store, std::string_view name, const std::string& reason,
                                            const std::string& actor) {
    if (auto s = check_revocation_reason(reason); !s) return s.error();
    auto device = normalize_device_name(name);
    if (!device) return device.error();
    auto known = store.find_device(*device);
    if (!known) return known.error();
    if (!known->has_value()) return fail(ErrorKind::Input, "no such device: " + *device + " (lscgate device list)");
    return store.revoke_active_lsc(*device, reason, actor);
}

}  // namespace lscgate
