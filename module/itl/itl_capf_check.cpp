#include "itl/itl_capf_check.h"

#include "itl/itl_tags.h"
#include "itl/itl_values.h"
#include "pki/certificate.h"
#include "pki/printable.h"

namespace lscgate::itl {

const char* to_string(CapfMatch match) {
    switch (match) {
        case CapfMatch::Same: return "same";
        case CapfMatch::Other: return "other";
        case CapfMatch::Missing: return "missing";
    }
    return "missing";
}

namespace {

CapfRecordFinding judge(const Record& r, std::size_t index, ByteView capf_der, const std::string& expected) {
    CapfRecordFinding f;
    f.index = index;
    // Names are the file's bytes: escaped here so no caller prints them raw (a
    // terminal escape, a forged line) or hands invalid UTF-8 to a JSON writer.
    if (const Field* s = r.find(tags::kSubjectName); s != nullptr) f.subject = escape_nonprintable(field_text(*s));
    if (const Field* c = r.find(tags::kCertificate); c != nullptr) {
        f.sha256 = digest_hex(c->value, "SHA256");
        f.matches = f.sha256 == expected;
        if (f.subject.empty())
            if (auto cert = parse_certificate_der(c->value); cert)
                if (auto facts = describe_certificate(cert->get()); facts) f.subject = escape_nonprintable(facts->subject);
        f.detail = f.matches ? "this CAPF certificate" : "another certificate (SHA-256 " + f.sha256 + ")";
        return f;
    }
    if (const Field* h = r.find(tags::kCertHash); h != nullptr) {
        const Field* code = r.find(tags::kHashAlgorithm);
        const auto name = hash_name(code != nullptr ? code->value[0] : 1);  // SHA-1 when unsaid, as CUCM prints it
        f.matches = name && digest_hex(capf_der, name->c_str()) == to_hex(h->value);
        f.detail = f.matches ? "CERTHASH of this CAPF certificate" : "CERTHASH of another certificate";
        return f;
    }
    const Field* dns = r.find(tags::kDnsName);
    f.detail = "no certificate and no CERTHASH, only " +
               (dns != nullptr ? "DNSNAME '" + escape_nonprintable(field_text(*dns)) + "'" : std::string("a name-less server entry"));
    return f;
}

}  // namespace

CapfCheck check_capf(const File& file, ByteView capf_der) {
    CapfCheck out;
    out.expected_sha256 = digest_hex(capf_der, "SHA256");
    for (std::size_t i = 0; i < file.records.size(); ++i) {
        if (file.records[i].function() != kRoleCapf) continue;
        out.records.push_back(judge(file.records[i], i, capf_der, out.expected_sha256));
        if (out.records.back().matches) out.match = CapfMatch::Same;
        else if (out.match == CapfMatch::Missing) out.match = CapfMatch::Other;
    }
    return out;
}

}  // namespace lscgate::itl
