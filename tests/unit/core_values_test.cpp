// Small value parsers and checks the CLI and the server rely on.

#include "pki/auth_secret.h"
#include "pki/certificate.h"
#include "registry/config.h"
#include "registry/device_name.h"
#include "pki/distinguished_name.h"
#include "pki/key_spec.h"
#include "pki/secure_file.h"
#include "pki/time_text.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <ctime>
#include <fstream>

using namespace lscgate;

TEST(KeySpec, ParsesEverySupportedKey) {
    for (const char* s : {"rsa:1024", "rsa:2048", "rsa:3072", "rsa:4096", "ec:p256", "ec:p384", "ec:p521"}) {
        auto k = parse_key_spec(s);
        ASSERT_TRUE(k) << s;
        EXPECT_EQ(k->to_string(), s);
    }
    for (const char* s : {"", "rsa", "rsa:", "rsa:512", "rsa:2048x", "ec:p224", "dsa:2048", "RSA:2048"})
        EXPECT_FALSE(parse_key_spec(s)) << s;
}

TEST(KeySpec, CurveWireCodesFollowTheSpec) {
    EXPECT_EQ(curve_wire_code(EcCurve::P256), 0);
    EXPECT_EQ(curve_wire_code(EcCurve::P384), 1);
    EXPECT_EQ(curve_wire_code(EcCurve::P521), 2);
    EXPECT_EQ(*curve_from_wire_code(2), EcCurve::P521);
    EXPECT_FALSE(curve_from_wire_code(3));
}

TEST(AuthSecret, HashesVerifyAndNeverContainTheDigits) {
    auto h = hash_auth_string("20261128");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->find("20261128"), std::string::npos);
    EXPECT_EQ(h->rfind("pbkdf2-sha256$", 0), 0u);
    EXPECT_TRUE(verify_auth_string("20261128", *h));
    EXPECT_FALSE(verify_auth_string("20261129", *h));
    EXPECT_FALSE(verify_auth_string("", *h));
    EXPECT_NE(*h, *hash_auth_string("20261128"));  // salted
}

TEST(AuthSecret, MalformedStoredHashesNeverMatch) {
    for (const char* bad : {"", "plain", "pbkdf2-sha256$", "pbkdf2-sha256$x$00$00", "md5$1$00$00",
                            "pbkdf2-sha256$0$0011$00", "pbkdf2-sha256$10$zz$00"})
        EXPECT_FALSE(verify_auth_string("1234", bad)) << bad;
}

TEST(AuthSecret, ValidatesDigits) {
    EXPECT_TRUE(validate_auth_string("1234"));
    EXPECT_TRUE(validate_auth_string("1234567890123456"));
    EXPECT_FALSE(validate_auth_string("123"));
    EXPECT_FALSE(validate_auth_string("12345678901234567"));
    EXPECT_FALSE(validate_auth_string("12a4"));
    EXPECT_FALSE(hash_auth_string("12a4"));
}

TEST(AuthSecret, ConstantTimeEqual) {
    EXPECT_TRUE(constant_time_equal("abc", "abc"));
    EXPECT_FALSE(constant_time_equal("abc", "abd"));
    EXPECT_FALSE(constant_time_equal("abc", "abcd"));
    EXPECT_TRUE(constant_time_equal("", ""));
}

// Device names: tests/unit/device_name_test.cpp (the CUCM rules, table-driven).

TEST(TimeText, RelativeAndAbsolute) {
    const UnixTime now = 1'800'000'000;
    EXPECT_EQ(*parse_time_text("+90s", now), now + 90);
    EXPECT_EQ(*parse_time_text("+30m", now), now + 1800);
    EXPECT_EQ(*parse_time_text("+12h", now), now + 43200);
    EXPECT_EQ(*parse_time_text("+7d", now), now + 7 * 86400);
    EXPECT_EQ(*parse_time_text("2026-12-01T17:00Z", now), 1796144400);
    EXPECT_EQ(*parse_time_text("2026-12-01 17:00:30Z", now), 1796144430);
    EXPECT_TRUE(parse_time_text("2026-12-01T17:00", now));  // local time
    for (const char* bad : {"", "+", "+5", "+5y", "+-5m", "tomorrow", "2026-13-01T00:00Z", "2026-12-01"})
        EXPECT_FALSE(parse_time_text(bad, now)) << bad;
}

// format_utc computes the calendar itself (no gmtime_r lock): it must print what
// gmtime_r + strftime print, across leap years, centuries and the epoch.
TEST(TimeText, FormatUtcAgreesWithGmtime) {
    EXPECT_EQ(format_utc(1796144430), "2026-12-01T17:00:30Z");
    EXPECT_EQ(format_utc(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_utc(951782400), "2000-02-29T00:00:00Z");
    for (UnixTime t = -2208988800; t < 4102444800 + 86400 * 400; t += 86400 * 37 + 3599) {
        const std::time_t tt = static_cast<std::time_t>(t);
        struct tm tm {};
        gmtime_r(&tt, &tm);
        char want[32];
        std::strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
        ASSERT_EQ(format_utc(t), want) << t;
    }
}

TEST(DistinguishedName, BothSpellingsGiveTheSameName) {
    auto a = parse_distinguished_name("CN=CAPF-1,OU=Voice,O=Example\\, Inc.,C=NZ");
    auto b = parse_distinguished_name("/C=NZ/O=Example, Inc./OU=Voice/CN=CAPF-1");
    ASSERT_TRUE(a) << a.message();
    ASSERT_TRUE(b) << b.message();
    EXPECT_EQ(X509_NAME_cmp(a->get(), b->get()), 0);
    EXPECT_FALSE(parse_distinguished_name(""));
    EXPECT_FALSE(parse_distinguished_name("CN"));
    EXPECT_FALSE(parse_distinguished_name("CN="));
    EXPECT_FALSE(parse_distinguished_name("NOPE=x"));
}

// Reading the CN out of DN text (distinguished_name.h): FreeRADIUS's oneline
// subjects, an ASA's RFC 2253 User-Name, and the CN swap of `lscgate init --force`.
TEST(DistinguishedName, CommonNameOfEitherSpelling) {
    EXPECT_EQ(common_name_of_distinguished_name("/C=NZ/O=Example/CN=SEP001122334455"), "SEP001122334455");
    EXPECT_EQ(common_name_of_distinguished_name("/O=A/B Corp/CN=x/y"), "x/y");  // a '/' inside a value stays
    EXPECT_EQ(common_name_of_distinguished_name("cn=SEP001122334455, ou=Voice"), "SEP001122334455");
    EXPECT_EQ(common_name_of_distinguished_name("OU=Voice, CN=SEP001122334455,O=Example"), "SEP001122334455");
    EXPECT_EQ(common_name_of_distinguished_name("OU=Voice,O=Example"), "");
    EXPECT_EQ(common_name_of_distinguished_name("CN=,OU=Voice"), "");
    EXPECT_EQ(common_name_of_distinguished_name(""), "");

    EXPECT_EQ(with_common_name("/C=NZ/O=Example/CN=CAPF-hq2/OU=Voice", "CAPF-1"), "/C=NZ/O=Example/CN=CAPF-1/OU=Voice");
    EXPECT_EQ(with_common_name("/O=Example/CN=CAPF/hq2", "CAPF-1"), "/O=Example/CN=CAPF-1");  // the whole value
    EXPECT_EQ(with_common_name("/O=Example/OU=Voice", "CAPF-1"), "");
}

class ConfigTest : public ::testing::Test {
protected:
    test::TempDir dir;
    void write(const std::string& text) { std::ofstream(dir / "lscgate.toml") << text; }
};

TEST_F(ConfigTest, DefaultTextParsesToDefaults) {
    write(default_config_text());
    auto c = load_config(dir.path());
    ASSERT_TRUE(c) << c.message();
    EXPECT_EQ(c->listen, "0.0.0.0:3804");
    EXPECT_EQ(c->tls_min, "1.2");
    EXPECT_EQ(c->lsc_days, 365);
    EXPECT_EQ(c->sudi, SudiPolicy::VerifyIfPresent);
    EXPECT_EQ(c->resolve(c->capf_key), dir / "capf.key");
    EXPECT_EQ(c->resolve("/abs/path"), std::filesystem::path("/abs/path"));
}

TEST_F(ConfigTest, ReportsFileLineAndField) {
    auto missing = load_config(dir.path());
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.message().find("lscgate init"), std::string::npos);
    write("[server]\nlisten = \n");
    auto syntax = load_config(dir.path());
    ASSERT_FALSE(syntax);
    EXPECT_NE(syntax.message().find("lscgate.toml:2"), std::string::npos) << syntax.message();
    write("[server]\nmax_sessions = \"many\"\n");
    auto type = load_config(dir.path());
    ASSERT_FALSE(type);
    EXPECT_NE(type.message().find("max_sessions must be an integer"), std::string::npos) << type.message();
    write("[capf]\nlsc_days = 0\n");
    EXPECT_FALSE(load_config(dir.path()));
    write("[server]\ntls_min = \"1.1\"\n");
    EXPECT_FALSE(load_config(dir.path()));
    write("[auth]\nsudi = \"maybe\"\n");
    EXPECT_FALSE(load_config(dir.path()));
}

TEST(SecureFile, SecretsAre0600AndWritesAreAtomic) {
    test::TempDir dir;
    ASSERT_TRUE(write_file_atomically(dir / "k", "secret", FileMode::Secret));
    EXPECT_EQ(std::filesystem::status(dir / "k").permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    ASSERT_TRUE(write_file_atomically(dir / "k", "replaced", FileMode::Secret));
    EXPECT_EQ(*read_text_file(dir / "k"), "replaced");
    EXPECT_FALSE(write_file_atomically(dir / "no-such-dir" / "k", "x", FileMode::Secret));
    EXPECT_FALSE(read_text_file(dir / "absent"));
    EXPECT_FALSE(read_text_file(dir / "k", 3));
    std::size_t leftovers = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) leftovers += e.path().filename() != "k";
    EXPECT_EQ(leftovers, 0u);
}
