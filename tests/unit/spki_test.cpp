// A phone's SubjectPublicKeyInfo read without OpenSSL's decoders (pki/spki.h):
// it must accept and describe what the decoders accept, refuse what they refuse,
// and an LSC issued from it must carry the key exactly as received.

#include "pki/certificate.h"
#include "pki/issuer.h"
#include "pki/keys.h"
#include "pki/spki.h"
#include "test_support.h"

#include <gtest/gtest.h>

using namespace lscgate;

namespace {

Bytes der_of(const std::string& spec) { return *public_key_der(test::make_key(spec).get()); }

TEST(Spki, DescribesWhatTheDecodedKeyIs) {
    for (const char* spec : {"rsa:1024", "rsa:2048", "ec:p256", "ec:p384", "ec:p521"}) {
        auto key = test::make_key(spec);
        auto spki = parse_subject_public_key_info(*public_key_der(key.get()));
        ASSERT_TRUE(spki) << spec << ": " << spki.message();
        auto described = describe_spki(spki->get());
        ASSERT_TRUE(described) << spec << ": " << described.message();
        EXPECT_EQ(*described, *describe_key(key.get())) << spec;
        EXPECT_EQ(described->to_string(), spec);
    }
}

TEST(Spki, RefusesWhatIsNotOneSubjectPublicKeyInfo) {
    Bytes der = der_of("ec:p256");
    Bytes trailing = der;
    trailing.push_back(0);
    EXPECT_FALSE(parse_subject_public_key_info(trailing));
    EXPECT_FALSE(parse_subject_public_key_info(Bytes(der.begin(), der.end() - 1)));
    EXPECT_FALSE(parse_subject_public_key_info(Bytes{}));
    EXPECT_FALSE(parse_subject_public_key_info(Bytes{0x30, 0x00}));
    Bytes garbage(der.size(), 0x41);
    EXPECT_FALSE(parse_subject_public_key_info(garbage));
}

TEST(Spki, RefusesAnEcPointOffTheCurve) {
    Bytes der = der_of("ec:p256");
    // The last byte of the uncompressed point is y's lowest: changing it moves the
    // point off the curve, which OpenSSL's decoder refuses too.
    der.back() ^= 0x01;
    auto parsed = parse_subject_public_key_info(der);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.kind(), ErrorKind::Input);
    EXPECT_NE(parsed.message().find("not a point on prime256v1"), std::string::npos) << parsed.message();
    EXPECT_FALSE(parse_public_key_der(der));  // the decoder agrees
}

TEST(Spki, KeepsOtherAlgorithmsForDescribeToRefuse) {
    EvpPkeyPtr ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    ASSERT_TRUE(ed);
    auto spki = parse_subject_public_key_info(*public_key_der(ed.get()));
    ASSERT_TRUE(spki) << spki.message();
    auto described = describe_spki(spki->get());
    ASSERT_FALSE(described);
    EXPECT_NE(described.message().find("unsupported key algorithm"), std::string::npos);
}

TEST(Spki, AnLscCarriesTheKeyAsReceivedAndIsDescribedWithoutDecoding) {
    auto capf = test::make_root_ca("CN=CAPF-spki");
    CapfAuthority authority = test::authority_from(capf);
    for (const char* spec : {"rsa:2048", "ec:p384"}) {
        auto key = test::make_key(spec);
        const Bytes der = *public_key_der(key.get());
        auto spki = parse_subject_public_key_info(der);
        ASSERT_TRUE(spki);
        auto lsc = authority.issue_lsc("SEP000000000001", spki->get(), 30);
        ASSERT_TRUE(lsc) << lsc.message();
        auto facts = describe_certificate(lsc->get());
        ASSERT_TRUE(facts);
        EXPECT_EQ(facts->key_type, spec[0] == 'r' ? "rsa" : "ec");
        EXPECT_EQ(facts->key_bits, spec[0] == 'r' ? 2048 : 384);
        // What the phone receives, parsed as anyone would: its key, signed by the CAPF.
        auto received = parse_certificate_der(certificate_der(lsc->get()));
        ASSERT_TRUE(received);
        EXPECT_TRUE(same_public_key(X509_get0_pubkey(received->get()), key.get())) << spec;
        EXPECT_EQ(X509_verify(received->get(), X509_get0_pubkey(capf.cert.get())), 1);
        EXPECT_EQ(describe_certificate(received->get())->sha256, facts->sha256);
    }
}

}  // namespace
