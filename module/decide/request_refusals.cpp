#include "decide/request_refusals.h"

namespace lscgate {

namespace {

bool has_certificate(const CertificateAttributeText& c) { return !c.serial.empty() || !c.issuer.empty(); }

Decision refused(CertClass cls, std::string reason) {
    Decision d;
    d.verdict = RadiusOutcome::Reject;
    d.cls = cls;
    d.reason = std::move(reason);
    return d;
}

std::string repeated_reason(const RadiusRequest& request) {
    std::string list;
    bool client_cert = false;
    for (const auto& r : request.repeated) {
        if (!list.empty()) list += ", ";
        list += std::string(r.name) + " carries " + std::to_string(r.count) + " values";
        client_cert = client_cert || r.name.rfind("TLS-Client-Cert-", 0) == 0;
    }
    std::string reason = "ambiguous request, refused rather than decided on the first value: " + list;
    if (client_cert)
        reason += " (FreeRADIUS 3.2.1 adds a second set of client-certificate attributes when the client sends its "
                  "certificate chain; see README, Troubleshooting)";
    return reason;
}

std::string eap_method_reason(std::string_view eap_type) {
    if (eap_type == "TLS")
        return "EAP-TLS succeeded but FreeRADIUS passed no TLS-Client-Cert-* attributes (a resumed TLS session? "
               "keep eap's session cache disabled)";
    const std::string method = eap_type.empty() ? "an EAP method other than EAP-TLS" : "EAP-" + std::string(eap_type);
    return method + " succeeded without a client certificate: phones authenticate with EAP-TLS (their LSC) only";
}

}  // namespace

std::optional<Decision> request_refusal(const RadiusRequest& request) {
    const bool cert = has_certificate(request.client_cert);
    if (!request.repeated.empty())
        return refused(cert || request.eap_in_progress ? CertClass::UnknownIssuer : CertClass::LscUnregistered,
                       repeated_reason(request));
    if (request.hook == RadiusHook::PostAuth && !cert && (request.eap_success_in_reply || !request.eap_type.empty()))
        return refused(CertClass::UnknownIssuer, eap_method_reason(request.eap_type));
    return std::nullopt;
}

std::string subject_label(const CertificateAttributeText& cert, const std::string& device) {
    if (!device.empty()) return device;
    if (has_certificate(cert) && common_name_from_attributes(cert.subject, cert.common_name).empty())
        return "(no CN) " + (cert.subject.empty() ? std::string("(no subject)") : std::string(cert.subject));
    return "-";
}

std::string radius_log_line(const RadiusAnswer& answer, std::string_view nas) {
    const Decision& d = answer.decision;
    if (answer.outcome == RadiusOutcome::Noop) return "noop: " + d.reason;
    const bool error = answer.outcome == RadiusOutcome::Error;
    std::string line = error ? std::string("error [error]") : std::string(to_string(d.verdict)) + " [" + std::string(to_string(d.cls)) + "]";
    line += " " + answer.subject_label + ": " + d.reason + " (NAS " + (nas.empty() ? std::string("-") : std::string(nas)) + ")";
    if (error) line += " - failing closed";
    return line;
}

}  // namespace lscgate
