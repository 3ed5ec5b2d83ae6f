// Untrusted text on the RADIUS side: the policy file, the certificate attribute
// strings a supplicant's certificate ends up as, and VPN user names.

#include "core/decision_engine.h"
#include "core/policy.h"
#include "core/presented_certificate.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace lscgate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    (void)Policy::parse(text, "fuzz");

    std::vector<std::string_view> fields;
    std::string_view rest(text);
    while (fields.size() < 8) {
        const auto nl = rest.find('\n');
        fields.push_back(rest.substr(0, nl));
        if (nl == std::string_view::npos) break;
        rest.remove_prefix(nl + 1);
    }
    fields.resize(8);
    const CertificateAttributeText attrs{fields[0], fields[1], fields[2], fields[3],
                                         fields[4], fields[5], fields[6], fields[7]};
    (void)presented_from_attributes(attrs);
    (void)device_from_user_name(text, VpnNameForm::CommonName);
    (void)device_from_user_name(text, VpnNameForm::DistinguishedName);
    (void)common_name_of_oneline(text);
    (void)normalize_serial(text);
    (void)normalize_key_id(text);
    return 0;
}
