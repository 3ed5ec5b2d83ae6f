// [web] of lscgate.toml (issue 14; registry/config.h WebSettings): read
// strictly like every section — ranges checked with the file and line, a
// misspelled key refused — and the rules between keys (certificate and key
// together, idle not longer than absolute).

#include "registry/config.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <fstream>

namespace lscgate {
namespace {

class WebConfig : public ::testing::Test {
protected:
    test::TempDir dir;
    Result<Config> load(const std::string& web_lines) {
        std::ofstream(dir / "lscgate.toml") << "[web]\n# padding\n" << web_lines << "\n";
        return load_config(dir.path());
    }
};

TEST_F(WebConfig, DefaultsAreLoopbackAndSelfSigned) {
    auto c = load("");
    ASSERT_TRUE(c) << c.message();
    EXPECT_EQ(c->web.listen, "127.0.0.1:8443");
    EXPECT_FALSE(c->web.allow_remote);
    EXPECT_TRUE(c->web.certificate.empty());
    EXPECT_EQ(c->web.session_idle_s, 900);
    EXPECT_EQ(c->web.session_absolute_s, 28800);
    EXPECT_EQ(c->web.lockout_failures, 5);
    EXPECT_EQ(c->web.lockout_seconds, 900);
    std::ofstream(dir / "lscgate.toml") << default_config_text();
    auto shipped = load_config(dir.path());
    ASSERT_TRUE(shipped) << shipped.message();
    EXPECT_EQ(shipped->web.listen, "127.0.0.1:8443");
}

TEST_F(WebConfig, EveryKeyIsRead) {
    auto c = load("listen = \"[::1]:9443\"\nallow_remote = true\ncertificate = \"site.pem\"\nkey = \"site.key\"\n"
                  "session_idle = 600\nsession_absolute = 3600\nlockout_failures = 3\nlockout_seconds = 120");
    ASSERT_TRUE(c) << c.message();
    EXPECT_EQ(c->web.listen, "[::1]:9443");
    EXPECT_TRUE(c->web.allow_remote);
    EXPECT_EQ(c->resolve(c->web.certificate), dir.path() / "site.pem");
    EXPECT_EQ(c->web.session_idle_s, 600);
    EXPECT_EQ(c->web.session_absolute_s, 3600);
    EXPECT_EQ(c->web.lockout_failures, 3);
    EXPECT_EQ(c->web.lockout_seconds, 120);
}

TEST_F(WebConfig, OutOfRangeValuesNameTheFileLineAndKey) {
    for (const char* line : {"session_idle = 59", "session_idle = 86401", "session_absolute = 299",
                             "session_absolute = 604801", "lockout_failures = 0", "lockout_failures = 101",
                             "lockout_seconds = 59", "lockout_seconds = 4294967356"}) {
        auto c = load(line);
        ASSERT_FALSE(c) << line;
        EXPECT_EQ(c.kind(), ErrorKind::Config);
        EXPECT_NE(c.message().find("lscgate.toml:3:"), std::string::npos) << c.message();
        EXPECT_NE(c.message().find("[web] "), std::string::npos) << c.message();
    }
}

TEST_F(WebConfig, KeysThatBelongTogetherAreChecked) {
    auto half = load("certificate = \"site.pem\"");
    ASSERT_FALSE(half);
    EXPECT_NE(half.message().find("certificate and key go together"), std::string::npos) << half.message();
    auto idle = load("session_idle = 7200\nsession_absolute = 3600");
    ASSERT_FALSE(idle);
    EXPECT_NE(idle.message().find("session_idle must not exceed session_absolute"), std::string::npos);
    auto typo = load("allow_remotes = true");
    ASSERT_FALSE(typo);
    EXPECT_NE(typo.message().find("unknown key 'allow_remotes' in [web]"), std::string::npos) << typo.message();
}

}  // namespace
}  // namespace lscgate
