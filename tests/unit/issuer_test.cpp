// The CAPF certificate and the LSC profile (module/capf/PROTOCOL.md §8), checked with
// our own parser and with openssl(1) itself.

#include "pki/certificate.h"
#include "registry/config.h"
#include "pki/issuer.h"
#include "pki/keys.h"
#include "pki/spki.h"
#include "pki/trust_set.h"
#include "test_support.h"

#include <gtest/gtest.h>

using namespace lscgate;
using lscgate::test::TempDir;

namespace {

bool has_ext_flag(X509* c, uint32_t flag) { return (X509_get_extension_flags(c) & flag) != 0; }

TEST(CapfCertificate, HasTheExtensionsPhonesRequire) {
    auto key = test::make_key("rsa:2048");
    auto cert = create_capf_certificate(key.get(), {KeySpec{}, 3650, "CN=CAPF-lab,OU=Voice,O=Example,C=NZ"});
    ASSERT_TRUE(cert) << cert.message();
    X509* c = cert->get();
    EXPECT_EQ(X509_check_ca(c), 1);
    const BASIC_CONSTRAINTS* bc = static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(c, NID_basic_constraints, nullptr, nullptr));
    ASSERT_NE(bc, nullptr);
    EXPECT_TRUE(bc->ca);
    ASSERT_NE(bc->pathlen, nullptr);
    EXPECT_EQ(ASN1_INTEGER_get(bc->pathlen), 0);
    BASIC_CONSTRAINTS_free(const_cast<BASIC_CONSTRAINTS*>(bc));
    EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(c, X509_get_ext_by_NID(c, NID_basic_constraints, -1))), 1);
    const uint32_t ku = X509_get_key_usage(c);
    EXPECT_TRUE(ku & KU_DIGITAL_SIGNATURE);
    EXPECT_TRUE(ku & KU_KEY_CERT_SIGN);
    EXPECT_TRUE(ku & KU_CRL_SIGN);
    EXPECT_NE(X509_get0_subject_key_id(c), nullptr);
    auto facts = describe_certificate(c);
    ASSERT_TRUE(facts);
    EXPECT_EQ(facts->subject, "CN=CAPF-lab,OU=Voice,O=Example,C=NZ");
    EXPECT_EQ(facts->subject, facts->issuer);
    EXPECT_TRUE(capf_certificate_problem(c, key.get()).empty());
}

TEST(CapfCertificate, OpensslAgrees) {
    TempDir dir;
    auto key = test::make_key("ec:p256");
    auto cert = create_capf_certificate(key.get(), {KeySpec{KeyType::Ec, 0, EcCurve::P256}, 30, "/O=Example/CN=CAPF-ec"});
    ASSERT_TRUE(cert) << cert.message();
    test::write_pem(dir / "capf.pem", cert->get());
    auto text = test::run_command("openssl x509 -noout -text -in " + (dir / "capf.pem").string());
    ASSERT_EQ(text.status, 0) << text.output;
    EXPECT_NE(text.output.find("CA:TRUE, pathlen:0"), std::string::npos) << text.output;
    EXPECT_NE(text.output.find("Digital Signature, Certificate Sign, CRL Sign"), std::string::npos) << text.output;
    EXPECT_NE(text.output.find("Subject Key Identifier"), std::string::npos);
    EXPECT_NE(text.output.find("Subject: O = Example, CN = CAPF-ec"), std::string::npos) << text.output;
}

TEST(CapfCertificate, RejectsKeyMismatchAndNonCa) {
    auto key = test::make_key("rsa:2048");
    auto other = test::make_key("rsa:2048");
    auto cert = create_capf_certificate(key.get(), {});
    ASSERT_TRUE(cert);
    EXPECT_NE(capf_certificate_problem(cert->get(), other.get()).find("does not belong"), std::string::npos);
    auto ca = test::make_root_ca("CN=Root");
    auto leaf_key = test::make_key("rsa:2048");
    auto leaf = test::make_leaf(ca, leaf_key.get(), "CN=not-a-ca");
    EXPECT_NE(capf_certificate_problem(leaf.get(), leaf_key.get()).find("not a CA"), std::string::npos);
}

TEST(CapfCertificate, RejectsBadSubjectAndValidity) {
    auto key = test::make_key("rsa:2048");
    EXPECT_FALSE(create_capf_certificate(key.get(), {KeySpec{}, 0, ""}));
    EXPECT_FALSE(create_capf_certificate(key.get(), {KeySpec{}, 10, "CN"}));
    EXPECT_FALSE(create_capf_certificate(key.get(), {KeySpec{}, 10, "XX=unknown-attribute"}));
}

struct LscCase {
    const char* capf_key;
    const char* phone_key;
};

class LscProfile : public ::testing::TestWithParam<LscCase> {};

TEST_P(LscProfile, MatchesTheProfileAndVerifies) {
    TempDir dir;
    auto capf_key = test::make_key(GetParam().capf_key);
    auto capf = create_capf_certificate(capf_key.get(), {KeySpec{}, 365, "CN=CAPF-1,OU=Voice,O=Example,L=Wellington,C=NZ"});
    ASSERT_TRUE(capf) << capf.message();
    CapfAuthority authority(share(capf->get()), share(capf_key.get()), {});
    auto phone_key = test::make_key(GetParam().phone_key);
    auto lsc = authority.issue_lsc("SEP001122334455", phone_key.get(), 365);
    ASSERT_TRUE(lsc) << lsc.message();
    X509* c = lsc->get();

    auto facts = describe_certificate(c);
    ASSERT_TRUE(facts);
    EXPECT_EQ(facts->subject, "CN=SEP001122334455,OU=Voice,O=Example,L=Wellington,C=NZ");
    EXPECT_EQ(facts->issuer, "CN=CAPF-1,OU=Voice,O=Example,L=Wellington,C=NZ");
    EXPECT_EQ(facts->serial_hex.size(), 32u) << facts->serial_hex;  // 128 bits, top byte non-zero
    EXPECT_NEAR(static_cast<double>(facts->not_after - facts->not_before), 365.0 * 86400 + kDefaultBackdateSeconds, 2);
    EXPECT_FALSE(facts->is_ca);
    EXPECT_TRUE(same_public_key(X509_get0_pubkey(c), phone_key.get()));
    // AKI of the LSC = SKI of the CAPF
    const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(c);
    const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(capf->get());
    ASSERT_NE(aki, nullptr);
    ASSERT_NE(ski, nullptr);
    EXPECT_EQ(ASN1_OCTET_STRING_cmp(aki, ski), 0);
    EXPECT_NE(X509_get0_subject_key_id(c), nullptr);
    EXPECT_TRUE(has_ext_flag(c, EXFLAG_XKUSAGE));
    EXPECT_TRUE(X509_get_extended_key_usage(c) & XKU_SSL_CLIENT);
    EXPECT_TRUE(X509_get_extended_key_usage(c) & XKU_SSL_SERVER);
    EXPECT_EQ(X509_get_signature_nid(c), EVP_PKEY_get_base_id(capf_key.get()) == EVP_PKEY_RSA ? NID_sha256WithRSAEncryption
                                                                                              : NID_ecdsa_with_SHA256);

    test::write_pem(dir / "capf.pem", capf->get());
    test::write_pem(dir / "lsc.pem", c);
    auto text = test::run_command("openssl x509 -noout -text -in " + (dir / "lsc.pem").string());
    ASSERT_EQ(text.status, 0);
    EXPECT_TRUE(text.output.find("sha256WithRSAEncryption") != std::string::npos ||
                text.output.find("ecdsa-with-SHA256") != std::string::npos);
    for (const char* want : {"CA:FALSE", "TLS Web Server Authentication, TLS Web Client Authentication, IPSec End System",
                             "URI:SEP001122334455", "X509v3 Authority Key Identifier", "Digital Signature",
                             "Subject: C = NZ, L = Wellington, O = Example, OU = Voice, CN = SEP001122334455"}) {
        EXPECT_NE(text.output.find(want), std::string::npos) << want << "\n" << text.output;
    }
    auto verify = test::run_command("openssl verify -CAfile " + (dir / "capf.pem").string() + " " + (dir / "lsc.pem").string());
    EXPECT_EQ(verify.status, 0) << verify.output;
    EXPECT_NE(verify.output.find(": OK"), std::string::npos) << verify.output;
}

INSTANTIATE_TEST_SUITE_P(Keys, LscProfile,
                         ::testing::Values(LscCase{"rsa:2048", "rsa:2048"}, LscCase{"rsa:2048", "ec:p256"},
                                           LscCase{"ec:p384", "ec:p384"}, LscCase{"rsa:2048", "rsa:1024"}),
                         [](const ::testing::TestParamInfo<LscCase>& param_info) {
                             std::string name = std::string("capf_") + param_info.param.capf_key + "_phone_" + param_info.param.phone_key;
                             for (auto& c : name)
                                 if (c == ':') c = '_';
                             return name;
                         });

TEST(LscProfile, ChainsThroughAnIntermediateCapf) {
    TempDir dir;
    auto root = test::make_root_ca("CN=Example Root CA,O=Example");
    auto capf = test::make_intermediate_ca(root, "CN=CAPF-sub,OU=Voice,O=Example");
    CapfAuthority authority = test::authority_from(capf);
    auto phone_key = test::make_key("ec:p256");
    auto lsc = authority.issue_lsc("SEP00AABBCCDDEE", phone_key.get(), 30);
    ASSERT_TRUE(lsc);
    auto facts = describe_certificate(lsc->get());
    // Issuer must be the intermediate's *subject*, not its issuer (the reference server's bug).
    EXPECT_EQ(facts->issuer, "CN=CAPF-sub,OU=Voice,O=Example");
    test::write_pem(dir / "root.pem", root.cert.get());
    test::write_pem(dir / "capf.pem", capf.cert.get());
    test::write_pem(dir / "lsc.pem", lsc->get());
    auto full = test::run_command("openssl verify -CAfile " + (dir / "root.pem").string() + " -untrusted " +
                                  (dir / "capf.pem").string() + " " + (dir / "lsc.pem").string());
    EXPECT_EQ(full.status, 0) << full.output;
    // Without the intermediate the chain is incomplete.
    auto broken = test::run_command("openssl verify -CAfile " + (dir / "root.pem").string() + " " + (dir / "lsc.pem").string());
    EXPECT_NE(broken.status, 0);
    // Our trust set anchors on the CAPF (intermediate) itself.
    auto trust = TrustSet::build({capf.cert.get()}, {});
    ASSERT_TRUE(trust);
    EXPECT_TRUE(trust->verify_lsc(lsc->get(), now_utc()));
}

TEST(LscProfile, SerialsAreUnique) {
    auto capf = test::make_root_ca("CN=CAPF-serials");
    CapfAuthority authority = test::authority_from(capf);
    auto key = test::make_key("ec:p256");
    std::set<std::string> serials;
    for (int i = 0; i < 50; ++i) {
        auto lsc = authority.issue_lsc("SEP000000000001", key.get(), 1);
        ASSERT_TRUE(lsc);
        serials.insert(describe_certificate(lsc->get())->serial_hex);
    }
    EXPECT_EQ(serials.size(), 50u);
}

TEST(LscProfile, RefusesBadValidity) {
    auto capf = test::make_root_ca("CN=CAPF-days");
    CapfAuthority authority = test::authority_from(capf);
    auto key = test::make_key("ec:p256");
    EXPECT_FALSE(authority.issue_lsc("SEP000000000001", key.get(), 0));
    EXPECT_FALSE(authority.issue_lsc("SEP000000000001", key.get(), 3651));
}

// notBefore lies a margin before issuance, so a verifier whose clock lags
// (FreeRADIUS 90 s behind) accepts a fresh certificate; notAfter counts from issuance.
TEST(NotBefore, LscIsBackdatedByTheMargin) {
    constexpr UnixTime kIssuedAt = 1'800'000'000;
    auto capf = test::make_root_ca("CN=CAPF-clock");
    CapfAuthority authority = test::authority_from(capf);
    EXPECT_EQ(authority.backdate_seconds(), 300);
    auto key = test::make_key("ec:p256");
    auto spki = parse_subject_public_key_info(*public_key_der(key.get()));
    ASSERT_TRUE(spki);
    std::vector<Result<X509Ptr>> issued;
    issued.push_back(authority.issue_lsc("SEP000000000001", key.get(), 365, kIssuedAt));
    issued.push_back(authority.issue_lsc("SEP000000000001", spki->get(), 365, kIssuedAt));
    for (const auto& lsc : issued) {
        ASSERT_TRUE(lsc) << lsc.message();
        auto facts = describe_certificate(lsc->get());
        ASSERT_TRUE(facts);
        EXPECT_EQ(facts->not_before, kIssuedAt - 300);
        EXPECT_EQ(facts->not_after, kIssuedAt + 365 * 86400);
    }
    ASSERT_TRUE(authority.set_backdate_seconds(60));
    auto lsc = authority.issue_lsc("SEP000000000001", key.get(), 1, kIssuedAt);
    ASSERT_TRUE(lsc);
    EXPECT_EQ(describe_certificate(lsc->get())->not_before, kIssuedAt - 60);
    ASSERT_TRUE(authority.set_backdate_seconds(0));
    EXPECT_EQ(describe_certificate(authority.issue_lsc("SEP000000000001", key.get(), 1, kIssuedAt)->get())->not_before,
              kIssuedAt);
    EXPECT_FALSE(authority.set_backdate_seconds(-1));
    EXPECT_FALSE(authority.set_backdate_seconds(kMaxBackdateSeconds + 1));
    EXPECT_EQ(authority.backdate_seconds(), 0);  // a refused value changes nothing
}

TEST(NotBefore, CapfCertificateIsBackdatedToo) {
    constexpr UnixTime kIssuedAt = 1'800'000'000;
    auto key = test::make_key("ec:p256");
    CapfCertificateRequest request{KeySpec{KeyType::Ec, 0, EcCurve::P256}, 30, "CN=CAPF-clock"};
    request.issued_at = kIssuedAt;
    auto cert = create_capf_certificate(key.get(), request);
    ASSERT_TRUE(cert) << cert.message();
    auto facts = describe_certificate(cert->get());
    EXPECT_EQ(facts->not_before, kIssuedAt - kDefaultBackdateSeconds);
    EXPECT_EQ(facts->not_after, kIssuedAt + 30 * 86400);
    request.backdate_seconds = kMaxBackdateSeconds + 1;
    EXPECT_FALSE(create_capf_certificate(key.get(), request));
    EXPECT_EQ(Config{}.backdate_seconds, kDefaultBackdateSeconds);  // lscgate.toml's default is the same margin
}

// The TLS-level proof: a certificate issued now verifies at a clock 90 s behind.
TEST(NotBefore, OpensslAcceptsAFreshLscAtAClockNinetySecondsBehind) {
    TempDir dir;
    auto capf = test::make_root_ca("CN=CAPF-lag");
    CapfAuthority authority = test::authority_from(capf);
    auto key = test::make_key("ec:p256");
    const UnixTime now = now_utc();
    auto lsc = authority.issue_lsc("SEP000000000001", key.get(), 30, now);
    ASSERT_TRUE(lsc);
    test::write_pem(dir / "capf.pem", capf.cert.get());
    test::write_pem(dir / "lsc.pem", lsc->get());
    auto verify = test::run_command("openssl verify -attime " + std::to_string(now - 90) + " -CAfile " +
                                    (dir / "capf.pem").string() + " " + (dir / "lsc.pem").string());
    EXPECT_EQ(verify.status, 0) << verify.output;
}

TEST(CapfAuthorityLoad, ReportsMissingAndMismatchedFiles) {
    TempDir dir;
    auto missing = CapfAuthority::load(dir / "nope.crt", dir / "nope.key", {});
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.message().find("nope.crt"), std::string::npos);
    auto a = test::make_root_ca("CN=A");
    auto b = test::make_root_ca("CN=B");
    test::write_pem(dir / "a.crt", a.cert.get());
    ASSERT_TRUE(save_private_key(dir / "b.key", b.key.get()));
    auto mismatch = CapfAuthority::load(dir / "a.crt", dir / "b.key", {});
    ASSERT_FALSE(mismatch);
    EXPECT_NE(mismatch.message().find("does not belong"), std::string::npos);
    ASSERT_TRUE(save_private_key(dir / "a.key", a.key.get()));
    EXPECT_EQ(std::filesystem::status(dir / "a.key").permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    EXPECT_TRUE(CapfAuthority::load(dir / "a.crt", dir / "a.key", dir / "absent-chain.pem"));
}

}  // namespace
