// Keys and signatures OpenSSL security level 2 (Debian 12's default) refuses:
// the messages the CLI shows before scheduling or importing them, and the TLS
// context of `lscgate serve` turning OpenSSL's bare reason into a clear error.

#include "capf/tls_context.h"
#include "pki/issuer.h"
#include "pki/key_strength.h"
#include "test_support.h"

#include <gtest/gtest.h>

using namespace lscgate;

namespace {

bool has(const std::string& text, const std::string& fragment) { return text.find(fragment) != std::string::npos; }

TEST(WeakLscKey, Rsa1024NamesTheConsequenceAndTheFix) {
    const auto why = weak_lsc_key_reason(*parse_key_spec("rsa:1024"));
    EXPECT_TRUE(has(why, "EE certificate key too weak")) << why;
    EXPECT_TRUE(has(why, "--key rsa:2048 or ec:p256")) << why;
    EXPECT_TRUE(has(why, "SECLEVEL=1")) << why;
    EXPECT_TRUE(has(why, "--allow-weak-key")) << why;
    for (const char* ok : {"rsa:2048", "rsa:3072", "rsa:4096", "ec:p256", "ec:p384", "ec:p521"})
        EXPECT_EQ(weak_lsc_key_reason(*parse_key_spec(ok)), "") << ok;
}

TEST(WeakCapf, KeySpec) {
    EXPECT_TRUE(has(weak_capf_key_spec_reason(*parse_key_spec("rsa:1024")), "CA certificate key too weak"));
    for (const char* ok : {"rsa:2048", "rsa:4096", "ec:p256", "ec:p384"})
        EXPECT_EQ(weak_capf_key_spec_reason(*parse_key_spec(ok)), "") << ok;
}

TEST(WeakCapf, CertificateKeyAndSignature) {
    EXPECT_EQ(weak_capf_certificate_reason(test::make_root_ca("CN=strong").cert.get()), "");
    EXPECT_EQ(weak_capf_certificate_reason(test::make_root_ca("CN=ec", "ec:p256").cert.get()), "");

    const auto small = weak_capf_certificate_reason(test::make_root_ca("CN=small", "rsa:1024").cert.get());
    EXPECT_TRUE(has(small, "RSA-1024 key")) << small;
    EXPECT_TRUE(has(small, "CA certificate key too weak")) << small;
    EXPECT_FALSE(has(small, "sha1")) << small;

    auto root = test::make_root_ca("CN=root");
    auto sha1 = test::make_intermediate_ca(root, "CN=CAPF-sha1");
    ASSERT_GT(X509_sign(sha1.cert.get(), root.key.get(), EVP_sha1()), 0);
    const auto digest = weak_capf_certificate_reason(sha1.cert.get());
    EXPECT_TRUE(has(digest, "signed with sha1")) << digest;
    EXPECT_FALSE(has(digest, "key is below")) << digest;
}

TEST(ServerTlsContext, AWeakCapfIsAClearConfigurationError) {
    auto small = test::make_root_ca("CN=CAPF-1024", "rsa:1024");
    auto authority = test::authority_from(small);
    ASSERT_GE(SSL_CTX_get_security_level(capf::make_server_tls_context(test::authority_from(test::make_root_ca("CN=x")), "1.2")->get()),
              2)
        << "these checks assume Debian's default OpenSSL security level 2";
    auto refused = capf::make_server_tls_context(authority, "1.2");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.kind(), ErrorKind::Config);
    EXPECT_TRUE(has(refused.message(), "the CAPF certificate's key is too small for OpenSSL security level 2"))
        << refused.message();
    EXPECT_TRUE(has(refused.message(), "lscgate init --force")) << refused.message();
    EXPECT_FALSE(has(refused.message(), "ee key too small")) << refused.message();
    // Legacy TLS 1.0 runs at security level 0, where the old CAPF still works.
    EXPECT_TRUE(capf::make_server_tls_context(authority, "1.0"));

    auto root = test::make_root_ca("CN=root");
    auto sha1 = test::make_intermediate_ca(root, "CN=CAPF-sha1");
    ASSERT_GT(X509_sign(sha1.cert.get(), root.key.get(), EVP_sha1()), 0);
    auto digest = capf::make_server_tls_context(test::authority_from(sha1), "1.2");
    ASSERT_FALSE(digest);
    EXPECT_EQ(digest.kind(), ErrorKind::Config);
    EXPECT_TRUE(has(digest.message(), "signed with a digest too weak")) << digest.message();
}

}  // namespace
