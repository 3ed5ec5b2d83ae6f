// The certificate of the web pages (issue 14; web/web_identity.h): made
// self-signed at the first start with its key 0600, kept while it has 30 days
// left and made anew after, a key others may read refused, a configured pair
// used as given and checked to belong together.

#include "pki/certificate.h"
#include "pki/keys.h"
#include "pki/secure_file.h"
#include "test_support.h"
#include "web/web_identity.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>

namespace lscgate::web {
namespace {

using test::TempDir;

class WebIdentityTest : public ::testing::Test {
protected:
    TempDir dir;
    Config cfg = [this] {
        Config c;
        c.dir = dir.path();
        return c;
    }();
    ListenAddress listen = *parse_listen_address("127.0.0.1:8443");
    UnixTime now = now_utc();

    std::string fingerprint_of(const std::filesystem::path& p) {
        auto cert = load_certificate(p);
        EXPECT_TRUE(cert) << cert.message();
        return cert ? describe_certificate(cert->get())->sha256 : "";
    }
};

TEST_F(WebIdentityTest, TheFirstStartMakesASelfSignedServerCertificate) {
    auto id = load_web_identity(cfg, listen, now);
    ASSERT_TRUE(id) << id.message();
    EXPECT_NE(id->origin.find("made now"), std::string::npos);
    struct stat st {};
    ASSERT_EQ(::stat((dir / "web.key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600);
    const auto out = test::run_command("openssl x509 -noout -text -in " + (dir / "web.crt").string());
    EXPECT_NE(out.output.find("CA:FALSE"), std::string::npos) << out.output;
    EXPECT_NE(out.output.find("TLS Web Server Authentication"), std::string::npos);
    EXPECT_NE(out.output.find("DNS:localhost"), std::string::npos);
    EXPECT_NE(out.output.find("IP Address:127.0.0.1"), std::string::npos);
    auto facts = describe_certificate(id->certificate.get());
    ASSERT_TRUE(facts);
    EXPECT_GE(facts->not_after - now, 396 * 86400);
    // The next start keeps it.
    const std::string first = fingerprint_of(dir / "web.crt");
    auto again = load_web_identity(cfg, listen, now + 86400);
    ASSERT_TRUE(again);
    EXPECT_EQ(fingerprint_of(dir / "web.crt"), first);
    // 30 days before it ends, it is made anew.
    auto renewed = load_web_identity(cfg, listen, now + 370 * 86400);
    ASSERT_TRUE(renewed);
    EXPECT_NE(fingerprint_of(dir / "web.crt"), first);
}

TEST_F(WebIdentityTest, AKeyOthersMayReadIsRefused) {
    ASSERT_TRUE(load_web_identity(cfg, listen, now));
    ASSERT_EQ(::chmod((dir / "web.key").c_str(), 0644), 0);
    auto id = load_web_identity(cfg, listen, now);
    ASSERT_FALSE(id);
    EXPECT_EQ(id.kind(), ErrorKind::Config);
    EXPECT_NE(id.message().find("chmod 600"), std::string::npos) << id.message();
}

TEST_F(WebIdentityTest, AConfiguredPairIsUsedAndMustMatch) {
    auto key = test::make_key("ec:p256");
    auto other = test::make_key("ec:p256");
    auto cert = create_web_certificate(key.get(), listen, now);
    ASSERT_TRUE(cert);
    ASSERT_TRUE(write_file_atomically(dir / "site.crt", certificate_pem(cert->get()), FileMode::Public));
    ASSERT_TRUE(save_private_key(dir / "site.key", key.get()));
    ASSERT_TRUE(save_private_key(dir / "other.key", other.get()));
    cfg.web.certificate = "site.crt";
    cfg.web.key = "site.key";
    auto id = load_web_identity(cfg, listen, now);
    ASSERT_TRUE(id) << id.message();
    EXPECT_NE(id->origin.find("[web] certificate"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(dir / "web.crt"));
    cfg.web.key = "other.key";
    auto mismatch = load_web_identity(cfg, listen, now);
    ASSERT_FALSE(mismatch);
    EXPECT_EQ(mismatch.kind(), ErrorKind::Config);
}

TEST_F(WebIdentityTest, ARemoteListenAddressIsInTheCertificate) {
    auto key = test::make_key("ec:p256");
    auto cert = create_web_certificate(key.get(), *parse_listen_address("192.0.2.7:8443"), now);
    ASSERT_TRUE(cert);
    test::write_pem(dir / "remote.pem", cert->get());
    const auto out = test::run_command("openssl x509 -noout -ext subjectAltName -in " + (dir / "remote.pem").string());
    EXPECT_NE(out.output.find("IP Address:192.0.2.7"), std::string::npos) << out.output;
}

}  // namespace
}  // namespace lscgate::web
