// Untrusted text on the RADIUS side: the policy file, the certificate attribute
// strings a supplicant's certificate ends up as, VPN user names, and the NAS's
// session attributes last-seen keeps (Cisco-AVPair audit-session-id=…).

#include "decide/decision_engine.h"
#include "decide/policy.h"
#include "pki/presented_certificate.h"
#include "decide/request_refusals.h"
#include "decide/seen_facts.h"

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
    (void)common_name_from_attributes(fields[2], fields[3]);
    (void)oneline_has_common_name(fields[2], fields[3]);
    // A request built from the same text: hook, repeated attributes and the EAP
    // method from the input, then the refusal checks and the log line.
    RadiusRequest request;
    request.hook = size % 2 == 0 ? RadiusHook::PostAuth : RadiusHook::Authorize;
    request.client_cert = attrs;
    request.user_name = fields[0];
    request.nas = fields[1];
    request.eap_type = fields[4];
    request.eap_success_in_reply = size % 3 == 0;
    if (size % 5 == 0) request.repeated.push_back({fields[5], static_cast<unsigned>(size)});
    RadiusAnswer answer;
    if (auto refusal = request_refusal(request)) answer.decision = std::move(*refusal);
    answer.outcome = size % 7 == 0 ? RadiusOutcome::Error : RadiusOutcome::Reject;
    answer.subject_label = subject_label(attrs, answer.decision.device);
    (void)radius_log_line(answer, request.nas);
    // What last-seen keeps of it: every line as a Cisco-AVPair value (audit-session-id=…).
    request.calling_station_id = fields[5];
    request.nas_port_id = fields[6];
    request.acct_session_id = fields[7];
    request.cisco_avpairs.assign(fields.begin(), fields.end());
    answer.decision.device = std::string(fields[3]);
    (void)seen_event(request, answer.decision, 0);
    (void)device_from_user_name(text, VpnNameForm::CommonName);
    (void)device_from_user_name(text, VpnNameForm::DistinguishedName);
    (void)common_name_of_oneline(text);
    (void)normalize_serial(text);
    (void)normalize_key_id(text);
    return 0;
}
