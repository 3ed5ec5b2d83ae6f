#include "pki/presented_certificate.h"

#include "pki/bytes.h"

#include <cctype>
#include <ctime>

namespace lscgate {

std::string normalize_serial(std::string_view hex) {
    std::string out;
    for (char c : hex)
        if (std::isxdigit(static_cast<unsigned char>(c))) out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    if (out.size() % 2 != 0) out.insert(out.begin(), '0');
    std::size_t zeros = 0;
    while (out.size() - zeros > 2 && out.compare(zeros, 2, "00") == 0) zeros += 2;
    return out.substr(zeros);
}

std::string normalize_key_id(std::string_view text) {
    // OpenSSL may print "keyid:AA:BB...\nDirName:...\nserial:..." — only the key id counts.
    if (auto nl = text.find_first_of("\n,"); nl != std::string_view::npos) text = text.substr(0, nl);
    if (text.rfind("keyid:", 0) == 0) text.remove_prefix(6);
    std::string out;
    for (char c : text)
        if (std::isxdigit(static_cast<unsigned char>(c))) out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    return out;
}

Result<UnixTime> parse_asn1_time_text(std::string_view text) {
    const auto bad = [&] { return fail("invalid certificate time '" + std::string(text) + "'"); };
    if (text.empty() || text.back() != 'Z') return bad();
    text.remove_suffix(1);
    for (char c : text)
        if (!std::isdigit(static_cast<unsigned char>(c))) return bad();
    struct tm tm {};
    std::size_t pos = 0;
    const auto num = [&](std::size_t n) {
        int v = 0;
        for (std::size_t i = 0; i < n; ++i) v = v * 10 + (text[pos + i] - '0');
        pos += n;
        return v;
    };
    if (text.size() == 12) {
        const int yy = num(2);
        tm.tm_year = (yy >= 50 ? 1900 + yy : 2000 + yy) - 1900;  // RFC 5280 UTCTime window
    } else if (text.size() == 14) {
        tm.tm_year = num(4) - 1900;
    } else {
        return bad();
    }
    tm.tm_mon = num(2) - 1;
    tm.tm_mday = num(2);
    tm.tm_hour = num(2);
    tm.tm_min = num(2);
    tm.tm_sec = num(2);
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60)
        return bad();
    return static_cast<UnixTime>(timegm(&tm));
}

std::string common_name_from_attributes(std::string_view subject, std::string_view common_name) {
    // The subject is the certificate's own statement. FreeRADIUS 3.2.1 fills
    // TLS-Client-Cert-Common-Name from a buffer shared by every depth of the
    // chain, so a leaf without a CN gets its CA's CN: the attribute counts only
    // when the subject carries that very CN.
    if (subject.empty()) return std::string(common_name);
    if (oneline_has_common_name(subject, common_name)) return std::string(common_name);
    if (subject.find("/CN=") == std::string_view::npos && subject.rfind("CN=", 0) != 0) return {};
    return common_name_of_oneline(subject);
}

Result<PresentedCertificate> presented_from_attributes(const CertificateAttributeText& text) {
    PresentedCertificate p;
    p.serial_hex = normalize_serial(text.serial);
    if (p.serial_hex.empty()) return fail("client certificate serial missing");
    p.issuer_oneline = std::string(text.issuer);
    if (p.issuer_oneline.empty()) return fail("client certificate issuer missing");
    p.subject_oneline = std::string(text.subject);
    p.common_name = common_name_from_attributes(text.subject, text.common_name);
    if (!text.valid_since.empty()) {
        auto t = parse_asn1_time_text(text.valid_since);
        if (!t) return t.error();
        p.not_before = *t;
    }
    if (!text.expiration.empty()) {
        auto t = parse_asn1_time_text(text.expiration);
        if (!t) return t.error();
        p.not_after = *t;
    }
    p.authority_key_id = normalize_key_id(text.authority_key_id);
    p.is_ca = text.basic_constraints.find("CA:TRUE") != std::string_view::npos;
    return p;
}

Result<PresentedCertificate> presented_from_x509(const X509* cert) {
    auto facts = describe_certificate(cert);
    if (!facts) return facts.error();
    PresentedCertificate p;
    p.serial_hex = normalize_serial(facts->serial_hex);
    p.issuer_oneline = facts->issuer_oneline;
    p.subject_oneline = facts->subject_oneline;
    p.common_name = facts->common_name;
    p.not_before = facts->not_before;
    p.not_after = facts->not_after;
    if (const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(const_cast<X509*>(cert)))
        p.authority_key_id = to_hex(ByteView(ASN1_STRING_get0_data(aki), static_cast<std::size_t>(ASN1_STRING_length(aki))));
    p.is_ca = facts->is_ca;
    p.sha256 = facts->sha256;
    return p;
}

}  // namespace lscgate
