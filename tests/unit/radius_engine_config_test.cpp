// Creating the RADIUS decision engine: clear errors for a missing or foreign
// registry, no trusted CAPF, a bad policy file or MIC roots, a malformed
// conninfo (never quoting its password); and the policy file's defaults and
// parsing.

#include "decide/decision_engine.h"
#include "decide/policy.h"
#include "radius_decision_fixture.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

using namespace lscgate;
using lscgate::test::RadiusDecision;
using lscgate::test::TempDir;

namespace {

// A conninfo libpq cannot parse is a configuration error, not a SQLite path
// whose "does not exist" message would quote the password into the log.
TEST_F(RadiusDecision, AMalformedConninfoIsAConfigErrorWithoutThePassword) {
    const std::string secret = "S3cret-Pw-4711";
    const std::string malformed = "host=db.example.net password=" + secret + " dbname='radius";
    EngineConfig cfg;
    cfg.database = malformed;
    auto r = DecisionEngine::create(cfg);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.kind(), ErrorKind::Config) << r.message();
    EXPECT_NE(r.message().find("database"), std::string::npos) << r.message();
    EXPECT_EQ(r.message().find(secret), std::string::npos) << r.message();

    cfg.database = db;
    cfg.mic_roots = dir / "mic-roots.pem";
    cfg.last_seen_database = malformed;
    auto seen = DecisionEngine::create(cfg);
    ASSERT_FALSE(seen);
    EXPECT_EQ(seen.kind(), ErrorKind::Config) << seen.message();
    EXPECT_NE(seen.message().find("last_seen_database"), std::string::npos) << seen.message();
    EXPECT_EQ(seen.message().find(secret), std::string::npos) << seen.message();
}

TEST(RadiusEngineCreate, ClearErrors) {
    TempDir dir;
    EngineConfig cfg;
    cfg.database = dir / "absent.db";
    auto missing = DecisionEngine::create(cfg);
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.message().find("does not exist"), std::string::npos);
    std::ofstream(dir / "garbage.db") << std::string(4096, 'g');
    cfg.database = dir / "garbage.db";
    EXPECT_FALSE(DecisionEngine::create(cfg));
    Store store = test::make_store(dir / "empty.db");
    cfg.database = dir / "empty.db";
    auto no_capf = DecisionEngine::create(cfg);
    ASSERT_FALSE(no_capf);
    EXPECT_NE(no_capf.message().find("no trusted CAPF"), std::string::npos);
    auto capf = test::make_root_ca("CN=CAPF-x");
    ASSERT_TRUE(store.add_capf_certificate(capf.cert.get(), "test"));
    std::ofstream(dir / "bad-policy.toml") << "[actions]\nmic = \"maybe\"\n";
    cfg.policy_file = dir / "bad-policy.toml";
    auto bad_policy = DecisionEngine::create(cfg);
    ASSERT_FALSE(bad_policy);
    EXPECT_NE(bad_policy.message().find("bad-policy.toml"), std::string::npos) << bad_policy.message();
    cfg.policy_file.clear();
    cfg.mic_roots = dir / "absent-roots.pem";
    EXPECT_FALSE(DecisionEngine::create(cfg));
}

TEST(RadiusPolicy, DefaultsAndParsing) {
    const Policy p = Policy::defaults();
    for (CertClass c : kAllCertClasses)
        EXPECT_EQ(p.action(c).kind == PolicyAction::Kind::Accept,
                  c == CertClass::LscValid || c == CertClass::LscUnconfirmed)
            << to_string(c);
    EXPECT_FALSE(Policy::parse("[actions]\nlsc-valid = \"yes\"\n", "p"));
    EXPECT_FALSE(Policy::parse("[actions]\nlsc-awesome = \"accept\"\n", "p"));
    EXPECT_FALSE(Policy::parse("[actions]\nmic = \"allow-until someday\"\n", "p"));
    EXPECT_FALSE(Policy::parse("[expiry]\ngrace_days = -1\n", "p"));
    EXPECT_FALSE(Policy::parse("[accept]\ncolour = \"blue\"\n", "p"));
    EXPECT_FALSE(Policy::parse("[bogus]\n", "p"));
    auto syntax = Policy::parse("[actions\n", "policy.toml");
    ASSERT_FALSE(syntax);
    EXPECT_NE(syntax.message().find("policy.toml:1"), std::string::npos) << syntax.message();
    auto extra = Policy::parse("[actions]\nlsc-valid = \"accept\"\n[accept]\nvlan = \"110\"\n[accept.attributes]\nClass = \"phones\"\n", "p");
    ASSERT_TRUE(extra) << extra.message();
    const Decision d = extra->decide(Classification{CertClass::LscValid, "ok", {}, {}}, 0);
    ASSERT_EQ(d.reply.size(), 4u);
    EXPECT_EQ(d.reply[2].value, "110");
    EXPECT_EQ(d.reply[3].name, "Class");
    // Classes left out of [actions] are rejected.
    EXPECT_EQ(extra->decide(Classification{CertClass::Mic, "mic", {}, {}}, 0).verdict, RadiusOutcome::Reject);
}

}  // namespace
