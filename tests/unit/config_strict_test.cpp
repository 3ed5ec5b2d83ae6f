// Configuration that must not silently mean something else: integers are
// range-checked before narrowing (4294967296 must not wrap to 0), misspelled
// keys and sections are refused, errors name the key, the file and the line,
// and private key files readable by group or others are refused with the fix.

#include "registry/config.h"
#include "pki/keys.h"
#include "decide/policy.h"
#include "pki/secure_file.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

using namespace lscgate;

namespace {

class StrictConfig : public ::testing::Test {
protected:
    test::TempDir dir;
    std::string file() const { return (dir / "lscgate.toml").string(); }
    // Writes "[section]\n<padding>key = value\n" so the key sits on line 3.
    Result<Config> load_with(const std::string& section, const std::string& line) {
        std::ofstream(dir / "lscgate.toml") << "[" << section << "]\n# padding\n" << line << "\n";
        return load_config(dir.path());
    }
};

struct IntegerKey {
    const char* section;
    const char* key;
    long long below;  // smallest refused value under the range
    long long above;  // smallest refused value over the range
};

constexpr IntegerKey kIntegerKeys[] = {
    {"capf", "lsc_days", 0, 3651},
    {"capf", "session_history", 0, 10000001},
    {"server", "max_sessions", 0, 10001},
    {"server", "handshake_timeout", 0, 3601},
    {"server", "reply_timeout", 0, 3601},
    {"server", "keygen_timeout", 0, 3601},
    {"auth", "lockout_failures", 0, 1001},
    {"auth", "lockout_seconds", -1, 2592001},
};

}  // namespace

TEST_F(StrictConfig, EveryIntegerIsRangeCheckedBeforeNarrowingWithKeyFileAndLine) {
    for (const auto& k : kIntegerKeys) {
        // 2^32 wrapped to 0 and 2^32+1 to 1 when the value was cast to int unchecked.
        for (long long v : {4294967296LL, 4294967297LL, -4294967296LL, k.below, k.above}) {
            auto c = load_with(k.section, std::string(k.key) + " = " + std::to_string(v));
            ASSERT_FALSE(c) << k.key << " = " << v << " was accepted";
            EXPECT_EQ(c.kind(), ErrorKind::Config);
            const auto& m = c.message();
            EXPECT_NE(m.find(file() + ":3:"), std::string::npos) << m;
            EXPECT_NE(m.find(std::string("[") + k.section + "] " + k.key), std::string::npos) << m;
            EXPECT_NE(m.find("out of range"), std::string::npos) << m;
        }
        auto fractional = load_with(k.section, std::string(k.key) + " = 1.5");
        ASSERT_FALSE(fractional) << k.key << " = 1.5 was accepted";
        EXPECT_NE(fractional.message().find("must be an integer"), std::string::npos) << fractional.message();
    }
    auto ok = load_with("auth", "lockout_seconds = 2592000");
    ASSERT_TRUE(ok) << ok.message();
    EXPECT_EQ(ok->lockout_seconds, 2592000);
}

TEST_F(StrictConfig, SessionHistoryDefaultsToTheBoundAndTakesItsWholeRange) {
    std::ofstream(dir / "lscgate.toml") << default_config_text();
    auto dflt = load_config(dir.path());
    ASSERT_TRUE(dflt) << dflt.message();
    EXPECT_EQ(dflt->session_history, kDefaultSessionHistory);
    for (std::int64_t n : {std::int64_t{1}, std::int64_t{3}, kMaxSessionHistory}) {
        auto c = load_with("capf", "session_history = " + std::to_string(n));
        ASSERT_TRUE(c) << c.message();
        EXPECT_EQ(c->session_history, n);
    }
    Config overridden;
    overridden.session_history = 0;  // validate() checks it too, not only the loader
    auto s = overridden.validate();
    ASSERT_FALSE(s);
    EXPECT_NE(s.message().find("[capf] session_history must be 1 to 10000000"), std::string::npos) << s.message();
}

TEST_F(StrictConfig, MisspelledKeysInEverySectionAreRefusedWithTheirLine) {
    for (auto [section, line] : {std::pair{"capf", "lsc_day = 30"}, std::pair{"store", "databse = \"x.db\""},
                                 std::pair{"server", "max_session = 10"}, std::pair{"auth", "lockout_second = 60"},
                                 std::pair{"auth", "sudi_policy = \"require\""}}) {
        auto c = load_with(section, line);
        ASSERT_FALSE(c) << "[" << section << "] " << line << " was accepted";
        const auto& m = c.message();
        const std::string key = std::string(line).substr(0, std::string(line).find(' '));
        EXPECT_NE(m.find(file() + ":3:"), std::string::npos) << m;
        EXPECT_NE(m.find("unknown key '" + key + "' in [" + section + "]"), std::string::npos) << m;
        EXPECT_NE(m.find("known keys:"), std::string::npos) << m;
    }
    auto section = load_with("servers", "listen = \"127.0.0.1:1\"");
    ASSERT_FALSE(section);
    EXPECT_NE(section.message().find(file() + ":1: unknown section [servers]"), std::string::npos) << section.message();
    std::ofstream(dir / "lscgate.toml") << "listen = \"127.0.0.1:1\"\n";
    auto bare = load_config(dir.path());
    ASSERT_FALSE(bare);
    EXPECT_NE(bare.message().find("outside a section"), std::string::npos) << bare.message();
}

TEST_F(StrictConfig, ChoicesNameTheLineAndTheAllowedValues) {
    auto tls = load_with("server", "tls_min = \"1.1\"");
    ASSERT_FALSE(tls);
    EXPECT_NE(tls.message().find(file() + ":3: [server] tls_min"), std::string::npos) << tls.message();
    auto sudi = load_with("auth", "sudi = \"maybe\"");
    ASSERT_FALSE(sudi);
    EXPECT_NE(sudi.message().find("verify-if-present"), std::string::npos) << sudi.message();
    auto flag = load_with("auth", "accept_expired_mic = \"yes\"");
    ASSERT_FALSE(flag);
    EXPECT_NE(flag.message().find(file() + ":3: [auth] accept_expired_mic must be true or false"), std::string::npos)
        << flag.message();
}

TEST(StrictPolicy, UnknownExpiryKeysAndOutOfRangeGraceAreRefusedWithTheirLine) {
    auto typo = Policy::parse("[expiry]\ngrace_day = 30\n", "p.toml");
    ASSERT_FALSE(typo) << "a misspelled [expiry] key was ignored";
    EXPECT_NE(typo.message().find("p.toml:2: unknown key 'grace_day' in [expiry]"), std::string::npos) << typo.message();
    auto wrapped = Policy::parse("[expiry]\ngrace_days = 4294967296\n", "p.toml");
    ASSERT_FALSE(wrapped);
    EXPECT_NE(wrapped.message().find("p.toml:2: [expiry] grace_days"), std::string::npos) << wrapped.message();
    auto section = Policy::parse("[action]\nmic = \"accept\"\n", "p.toml");
    ASSERT_FALSE(section);
    EXPECT_NE(section.message().find("unknown section [action]"), std::string::npos) << section.message();
    EXPECT_TRUE(Policy::parse(default_policy_text(), "built-in"));
}

TEST(KeyFileMode, KeysReadableByGroupOrOthersAreRefusedWithTheFix) {
    test::TempDir dir;
    auto key = test::make_key("ec:p256");
    const auto path = dir / "capf.key";
    ASSERT_TRUE(save_private_key(path, key.get()));
    ASSERT_TRUE(load_private_key(path)) << "0600 must load";
    for (mode_t mode : {0644, 0666, 0640, 0604, 0620}) {
        ASSERT_EQ(::chmod(path.c_str(), mode), 0);
        auto k = load_private_key(path);
        ASSERT_FALSE(k) << "mode " << std::oct << mode << " was accepted";
        EXPECT_EQ(k.kind(), ErrorKind::Config);
        EXPECT_NE(k.message().find("chmod 600 " + path.string()), std::string::npos) << k.message();
    }
    ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
    EXPECT_TRUE(load_private_key(path)) << "0400 must load";
    // The CAPF authority (serve, init, capf import) reads its key the same way.
    ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
    auto ca = test::make_root_ca("CN=CAPF-mode,O=Example", "ec:p256");
    test::write_pem(dir / "capf.crt", ca.cert.get());
    ASSERT_TRUE(save_private_key(path, ca.key.get()));
    ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
    auto authority = CapfAuthority::load(dir / "capf.crt", path, {});
    ASSERT_FALSE(authority);
    EXPECT_NE(authority.message().find("chmod 600"), std::string::npos) << authority.message();
}
