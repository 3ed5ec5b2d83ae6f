// module/itl: the parser on files in every real shape (itl_shapes), every fault
// with its byte offset and kind, the signature check and the CAPF record check.

#include "itl/itl_capf_check.h"
#include "itl/itl_file.h"
#include "itl/itl_show.h"
#include "itl/itl_signature.h"
#include "itl/itl_tags.h"
#include "itl/itl_values.h"
#include "itl_shapes.h"
#include "pki/certificate.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

namespace lscgate {
namespace {

using itl::FaultKind;

class ItlParser : public ::testing::Test {
protected:
    static void SetUpTestSuite() { pki_ = new test::ItlShapesPki(test::make_itl_shapes_pki()); }
    static void TearDownTestSuite() { delete pki_; }
    static test::ItlShapesPki* pki_;

    Bytes real(bool signed_file = true, const X509* capf = nullptr) {
        return test::build_itl(test::real_shapes_spec(*pki_, capf ? capf : pki_->capf.get()),
                               signed_file ? pki_->sast_key.get() : nullptr);
    }
    static itl::Fault fault_of(const Bytes& data) {
        auto out = itl::parse(data);
        EXPECT_FALSE(out) << "parsed although malformed";
        return out.fault;
    }
};
test::ItlShapesPki* ItlParser::pki_ = nullptr;

TEST_F(ItlParser, ReadsEveryRealShape) {
    const Bytes data = real();
    auto out = itl::parse(data);
    ASSERT_TRUE(out) << out.fault.message();
    const itl::File& f = *out.file;
    EXPECT_EQ(f.version_major, 1);
    EXPECT_EQ(f.version_minor, 2);
    EXPECT_EQ(f.header_length % 4, 0u);
    ASSERT_EQ(f.records.size(), 5u);
    const std::uint16_t roles[] = {0, 2, 4, 3, 21};
    for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(f.records[i].function(), roles[i]) << "record " << i + 1;
    // The same certificate under SAST and CCM+TFTP.
    EXPECT_EQ(f.records[0].find(itl::tags::kCertificate)->value, f.records[1].find(itl::tags::kCertificate)->value);
    // Empty DNSNAME: just the NUL.
    ASSERT_NE(f.records[1].find(itl::tags::kDnsName), nullptr);
    EXPECT_EQ(f.records[1].find(itl::tags::kDnsName)->length, 1u);
    EXPECT_EQ(itl::field_text(*f.records[1].find(itl::tags::kDnsName)), "");
    // No certificate: DNSNAME with the address as text, and IPADDRESS.
    const itl::Record& server = f.records[3];
    EXPECT_EQ(server.find(itl::tags::kCertificate), nullptr);
    EXPECT_EQ(itl::field_text(*server.find(itl::tags::kDnsName)), "10.0.0.5");
    EXPECT_EQ(itl::address_text(server.find(itl::tags::kIpAddress)->value), "10.0.0.5");
    // No SIGNATURE (and no PUBLICKEY) tag in the TVS record.
    EXPECT_EQ(f.records[4].find(itl::tags::kCertSignature), nullptr);
    // Quoted, space-padded and ';'-joined names compare equal.
    EXPECT_TRUE(itl::same_name(itl::field_text(*f.records[0].find(itl::tags::kSubjectName)),
                               itl::field_text(*f.records[1].find(itl::tags::kSubjectName))));
    // Records tile the file from HEADERLENGTH to the end.
    std::size_t at = f.header_length;
    for (const auto& r : f.records) {
        EXPECT_EQ(r.offset, at);
        at += r.length;
    }
    EXPECT_EQ(at, data.size());
}

TEST_F(ItlParser, NormalizesNamesAsRealFilesWriteThem) {
    EXPECT_EQ(itl::normalize_name("  \"CN=a, OU=b\"  "), "CN=a,OU=b");
    EXPECT_EQ(itl::normalize_name("CN = a ; OU=b;;O=c "), "CN=a,OU=b,O=c");
    EXPECT_EQ(itl::normalize_name("CN=a\\,b;O=c"), "CN=a\\,b,O=c");
    EXPECT_TRUE(itl::same_name("cn=A;o=B", "\"CN=a, O=b\""));
    EXPECT_FALSE(itl::same_name("CN=a", "CN=b"));
}

TEST_F(ItlParser, BuilderMatchesTheWorkedExampleHeader) {
    // FORMAT.md's source, §7: the first 117 bytes of a one-record ITL signed by a
    // 2048-bit SAST with SHA-1, H = 400.
    test::ItlSpec spec;
    spec.signer_name = spec.ca_name = "CN=SAST-1,O=Example,OU=VoIP";
    spec.signer_serial = {0x12, 0x34, 0x56, 0x78, 0x90, 0xab, 0xcd, 0xef, 0x12, 0x34, 0x56, 0x78, 0x90, 0xab, 0xcd, 0xef};
    auto key = test::make_key("rsa:2048");
    const Bytes data = test::build_itl(spec, key.get());
    const Bytes prefix(data.begin(), data.begin() + 18);
    EXPECT_EQ(to_hex(prefix), "010002010202000201901C00020100030051");
    EXPECT_EQ(to_hex(Bytes(data.begin() + 99, data.begin() + 117)), "07000F080001010900080A0001000B000102");
    EXPECT_EQ(test::signature_offset(spec), 117u);
    auto out = itl::parse(data);
    ASSERT_TRUE(out) << out.fault.message();
    EXPECT_EQ(out.file->header_length, 400u);
    EXPECT_EQ(out.file->header_field(itl::tags::kSignature)->offset, 117u);
    EXPECT_EQ(out.file->header_field(itl::tags::kFileName)->offset, 376u);
}

TEST_F(ItlParser, RefusesMalformedFilesWithOffsetAndKind) {
    const Bytes good = real();
    auto parsed = itl::parse(good);
    ASSERT_TRUE(parsed);
    const itl::File& f = *parsed.file;
    const std::size_t h = f.header_length;

    auto f0 = fault_of({});
    EXPECT_EQ(f0.offset, 0u);
    EXPECT_EQ(f0.kind, FaultKind::Truncated);

    Bytes not_itl = good;
    not_itl[0] = 0x30;  // a DER certificate, say
    auto f1 = fault_of(not_itl);
    EXPECT_EQ(f1.offset, 0u);
    EXPECT_EQ(f1.kind, FaultKind::MissingField);
    EXPECT_NE(f1.message().find("byte offset 0: missing-field"), std::string::npos) << f1.message();

    Bytes short_file(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(h - 1));
    auto f2 = fault_of(short_file);  // HEADERLENGTH beyond the end of the file
    EXPECT_EQ(f2.offset, 5u);
    EXPECT_EQ(f2.kind, FaultKind::BadLength);

    Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(f.records[2].offset + 40));
    auto f3 = fault_of(cut);  // the CAPF record runs past the end
    EXPECT_EQ(f3.offset, f.records[2].offset);
    EXPECT_EQ(f3.kind, FaultKind::BadLength);

    Bytes nested = good;  // SIGNERNAME longer than SIGNERID
    const auto& signer_name = *f.header_field(itl::tags::kSignerName);
    nested[signer_name.offset + 2] = static_cast<std::uint8_t>(nested[signer_name.offset + 2] + 100);
    auto f4 = fault_of(nested);
    EXPECT_EQ(f4.offset, signer_name.offset);
    EXPECT_EQ(f4.kind, FaultKind::BadLength);
    EXPECT_NE(f4.detail.find("its container"), std::string::npos) << f4.detail;

    Bytes bad_record_start = good;
    bad_record_start[h] = 3;
    auto f5 = fault_of(bad_record_start);
    EXPECT_EQ(f5.offset, h);
    EXPECT_EQ(f5.kind, FaultKind::MissingField);

    Bytes field_past_record = good;  // the server record's IPADDRESS claims 5 bytes, its record ends after 4
    const auto& ip = *f.records[3].find(itl::tags::kIpAddress);
    field_past_record[ip.offset + 2] = 5;
    auto f6 = fault_of(field_past_record);
    EXPECT_EQ(f6.offset, ip.offset);
    EXPECT_EQ(f6.kind, FaultKind::BadLength);

    Bytes bad_function = good;  // FUNCTION claims 3 bytes: still inside its record, but not a u16
    const auto& fn = *f.records[3].find(itl::tags::kFunction);
    bad_function[fn.offset + 2] = 3;
    auto f7 = fault_of(bad_function);
    EXPECT_EQ(f7.offset, fn.offset);
    EXPECT_EQ(f7.kind, FaultKind::BadValue);

    Bytes small_record = good;
    small_record[h + 3] = 0;
    small_record[h + 4] = 4;  // RECORDLENGTH 4 < 5
    auto f8 = fault_of(small_record);
    EXPECT_EQ(f8.offset, h);
    EXPECT_EQ(f8.kind, FaultKind::BadLength);

    Bytes huge(itl::kMaxFileBytes + 1, 0);
    EXPECT_EQ(fault_of(huge).kind, FaultKind::TooLarge);
}

TEST_F(ItlParser, RefusesASecondSignature) {
    test::ItlSpec spec = test::real_shapes_spec(*pki_, pki_->capf.get());
    const Bytes good = test::build_itl(spec, pki_->sast_key.get());
    auto parsed = itl::parse(good);
    ASSERT_TRUE(parsed);
    const auto& sig = *parsed.file->header_field(itl::tags::kSignature);
    // Replace the FILENAME TLV's tag with SIGNATURE: same length, so everything still tiles.
    Bytes twice = good;
    const auto& name = *parsed.file->header_field(itl::tags::kFileName);
    twice[name.offset] = itl::tags::kSignature;
    auto fault = fault_of(twice);
    EXPECT_EQ(fault.offset, name.offset);
    EXPECT_EQ(fault.kind, FaultKind::DuplicateField);
    EXPECT_LT(sig.offset, name.offset);
}

TEST_F(ItlParser, EveryPrefixParsesOrFailsInsideTheFile) {
    const Bytes good = real();
    for (std::size_t n = 0; n < good.size(); ++n) {
        auto out = itl::parse(ByteView(good.data(), n));
        if (!out) {
            EXPECT_LE(out.fault.offset, n) << "prefix " << n << ": " << out.fault.message();
        }
    }
}

TEST_F(ItlParser, VerifiesA1024BitSha1Signature) {
    const Bytes data = real();
    auto out = itl::parse(data);
    ASSERT_TRUE(out);
    const auto check = itl::verify_signature(*out.file, data);
    EXPECT_EQ(check.verdict, itl::SignatureVerdict::Valid) << check.detail;
    EXPECT_EQ(check.digest, "SHA1");
    EXPECT_EQ(check.signature_bits, 1024);
    ASSERT_TRUE(check.signer_record);
    EXPECT_EQ(*check.signer_record, 0u) << "the SAST record is preferred over the same certificate as CCM+TFTP";
}

TEST_F(ItlParser, VerifiesSha512AndRefusesAlteredFiles) {
    test::ItlSpec spec = test::real_shapes_spec(*pki_, pki_->capf.get());
    spec.digest_code = 3;
    const Bytes data = test::build_itl(spec, pki_->sast_key.get());
    auto out = itl::parse(data);
    ASSERT_TRUE(out);
    EXPECT_EQ(itl::verify_signature(*out.file, data).verdict, itl::SignatureVerdict::Valid);

    Bytes altered = data;
    altered[out.file->records[2].find(itl::tags::kSubjectName)->offset + 5] ^= 0x01;
    auto again = itl::parse(altered);
    ASSERT_TRUE(again);
    EXPECT_EQ(itl::verify_signature(*again.file, altered).verdict, itl::SignatureVerdict::Invalid);

    Bytes altered_header = data;  // a header byte before the signature is signed too
    altered_header[out.file->header_field(itl::tags::kSignerVersion)->offset + 4] ^= 0x01;
    auto third = itl::parse(altered_header);
    ASSERT_TRUE(third);
    EXPECT_EQ(itl::verify_signature(*third.file, altered_header).verdict, itl::SignatureVerdict::Invalid);
}

TEST_F(ItlParser, UnsignedAndSignerlessFilesAreNamed) {
    const Bytes unsigned_file = real(false);
    auto out = itl::parse(unsigned_file);
    ASSERT_TRUE(out) << out.fault.message();
    EXPECT_EQ(out.file->header_field(itl::tags::kSignature), nullptr);
    EXPECT_EQ(itl::verify_signature(*out.file, unsigned_file).verdict, itl::SignatureVerdict::Unsigned);

    test::ItlSpec spec = test::real_shapes_spec(*pki_, pki_->capf.get());
    spec.records.erase(spec.records.begin(), spec.records.begin() + 2);  // no record with the signer's serial
    const Bytes signerless = test::build_itl(spec, pki_->sast_key.get());
    auto parsed = itl::parse(signerless);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(itl::verify_signature(*parsed.file, signerless).verdict, itl::SignatureVerdict::SignerMissing);
}

TEST_F(ItlParser, ChecksTheCapfRecord) {
    const Bytes capf_der = certificate_der(pki_->capf.get());
    const Bytes same = real();
    auto a = itl::parse(same);
    ASSERT_TRUE(a);
    auto same_check = itl::check_capf(*a.file, capf_der);
    EXPECT_EQ(same_check.match, itl::CapfMatch::Same);
    ASSERT_EQ(same_check.records.size(), 1u);
    EXPECT_EQ(same_check.records[0].index, 2u);

    const Bytes other = real(true, pki_->other_capf.get());
    auto b = itl::parse(other);
    ASSERT_TRUE(b);
    EXPECT_EQ(itl::check_capf(*b.file, capf_der).match, itl::CapfMatch::Other);

    test::ItlSpec spec = test::real_shapes_spec(*pki_, nullptr);
    const Bytes none = test::build_itl(spec, pki_->sast_key.get());
    auto c = itl::parse(none);
    ASSERT_TRUE(c);
    EXPECT_EQ(itl::check_capf(*c.file, capf_der).match, itl::CapfMatch::Missing);

    // A CAPF entry with only a CERTHASH (SHA-1) of this certificate.
    test::ItlSpec hashed = test::real_shapes_spec(*pki_, nullptr);
    test::ItlRecordSpec r;
    r.fields.push_back({4, test::u16_value(4)});
    Bytes sha1(20);
    unsigned int n = 0;
    X509_digest(pki_->capf.get(), EVP_sha1(), sha1.data(), &n);
    r.fields.push_back({11, sha1});
    r.fields.push_back({12, test::u8_value(1)});
    hashed.records.push_back(r);
    const Bytes hashed_file = test::build_itl(hashed, pki_->sast_key.get());
    auto d = itl::parse(hashed_file);
    ASSERT_TRUE(d);
    EXPECT_EQ(itl::check_capf(*d.file, capf_der).match, itl::CapfMatch::Same);

    // A CAPF entry with no certificate at all (a server entry) is not this CAPF.
    test::ItlSpec bare = test::real_shapes_spec(*pki_, nullptr);
    bare.records.push_back(test::server_record("capf.example.net", 4, {10, 0, 0, 9}));
    const Bytes bare_file = test::build_itl(bare, pki_->sast_key.get());
    auto e = itl::parse(bare_file);
    ASSERT_TRUE(e);
    auto bare_check = itl::check_capf(*e.file, capf_der);
    EXPECT_EQ(bare_check.match, itl::CapfMatch::Other);
    EXPECT_NE(bare_check.records.at(0).detail.find("capf.example.net"), std::string::npos);
}

// VERSION 1.2 and HEADERLENGTH, then `body` as the rest of the header: a file with no records.
Bytes header_only(const Bytes& body) {
    const std::size_t length = 10 + body.size();
    const std::uint8_t start[10] = {1, 0, 2, 1, 2, 2, 0, 2, static_cast<std::uint8_t>(length >> 8),
                                    static_cast<std::uint8_t>(length & 0xFF)};
    Bytes out(length);
    for (std::size_t i = 0; i < length; ++i) out[i] = i < 10 ? start[i] : body[i - 10];
    return out;
}

TEST(ItlDepth, ContainersNestAtMostTwoDeep) {
    // SIGNATUREINFO > SIGNATUREALGOINFO > SIGNATUREALGORITHM: values at depth 2, as real files have them.
    const Bytes two = header_only({7, 0, 7, 9, 0, 4, 10, 0, 1, 0});
    auto ok = itl::parse(two);
    ASSERT_TRUE(ok) << ok.fault.message();
    EXPECT_EQ(ok.file->header.back().depth, 2);

    // One more container inside SIGNATUREALGOINFO (at offset 16): its values would sit at depth 3.
    const Bytes three = header_only({7, 0, 10, 9, 0, 7, 3, 0, 4, 4, 0, 1, 'x'});
    auto deep = itl::parse(three);
    ASSERT_FALSE(deep);
    EXPECT_EQ(deep.fault.kind, FaultKind::TooDeep);
    EXPECT_EQ(deep.fault.offset, 16u);
    EXPECT_NE(deep.fault.message().find("byte offset 16: too-deep: SIGNERID (tag 3) opens a container at depth 2"),
              std::string::npos)
        << deep.fault.message();

    // Thousands of nested containers: refused at the third, not kept on a stack.
    Bytes body;
    for (std::size_t i = 0; i < 5000; ++i) {
        const std::size_t inner = (5000 - i - 1) * 3;
        body.insert(body.end(), {7, static_cast<std::uint8_t>(inner >> 8), static_cast<std::uint8_t>(inner & 0xFF)});
    }
    auto many = itl::parse(header_only(body));
    ASSERT_FALSE(many);
    EXPECT_EQ(many.fault.kind, FaultKind::TooDeep);
    EXPECT_EQ(many.fault.offset, 16u);
}

// Names as a hostile or broken file may write them: a terminal escape, a line
// break, a CSI, bytes that are not UTF-8.
TEST_F(ItlParser, NamesAreEscapedInTextAndJson) {
    const std::string hostile = "CN=capf\x1b]0;owned\x07\n\x9b" "2J\xff\xfe;O=x";
    test::ItlSpec spec = test::real_shapes_spec(*pki_, nullptr);
    spec.records.push_back(test::server_record(hostile, 4, {10, 0, 0, 9}));  // a CAPF entry named by DNSNAME only
    test::ItlRecordSpec named;
    named.fields.push_back({3, test::text_value(hostile)});  // SUBJECTNAME
    named.fields.push_back({4, test::u16_value(4)});
    spec.records.push_back(named);
    spec.filename = hostile;
    const Bytes data = test::build_itl(spec, pki_->sast_key.get());
    auto out = itl::parse(data);
    ASSERT_TRUE(out) << out.fault.message();

    const std::string text = itl::file_text(*out.file);
    for (char c : text) {
        const auto b = static_cast<unsigned char>(c);
        ASSERT_TRUE(c == '\n' || (b >= 0x20 && b < 0x7F)) << "raw byte 0x" << std::hex << int(b) << " in:\n" << text;
    }
    EXPECT_NE(text.find("CN=capf\\x1B]0;owned\\x07\\n\\x9B2J\\xFF\\xFE;O=x"), std::string::npos) << text;

    // JSON: every string is printable ASCII already, so even nlohmann's strict dump cannot throw.
    std::string dumped;
    ASSERT_NO_THROW(dumped = itl::file_json(*out.file).dump());
    EXPECT_TRUE(nlohmann::json::accept(dumped));
    EXPECT_NE(dumped.find("CN=capf\\\\x1B]0;owned"), std::string::npos);

    const auto check = itl::check_capf(*out.file, certificate_der(pki_->capf.get()));
    ASSERT_EQ(check.records.size(), 2u);
    EXPECT_EQ(check.records[0].detail, "no certificate and no CERTHASH, only DNSNAME 'CN=capf\\x1B]0;owned\\x07\\n\\x9B2J\\xFF\\xFE;O=x'");
    EXPECT_EQ(check.records[1].subject, "CN=capf\\x1B]0;owned\\x07\\n\\x9B2J\\xFF\\xFE;O=x");
    nlohmann::json records = nlohmann::json::array();
    for (const auto& r : check.records) records.push_back({{"subject", r.subject}, {"detail", r.detail}});
    std::string records_text;
    EXPECT_NO_THROW(records_text = records.dump());
    EXPECT_TRUE(nlohmann::json::accept(records_text));
}

}  // namespace
}  // namespace lscgate
