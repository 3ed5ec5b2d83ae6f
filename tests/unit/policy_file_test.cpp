// The policy file shipped in policy/ is the built-in default, word for word,
// so what the README and the file say is what an unconfigured module does.

#include "decide/policy.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace lscgate;

TEST(ShippedPolicy, IsTheBuiltInDefault) {
    const auto file = std::filesystem::path(LSCGATE_SOURCE_DIR) / "policy" / "lscgate-policy.toml";
    std::ifstream in(file);
    ASSERT_TRUE(in) << file;
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str(), default_policy_text());
    auto loaded = Policy::load(file);
    ASSERT_TRUE(loaded) << loaded.message();
    for (CertClass c : kAllCertClasses)
        EXPECT_EQ(static_cast<int>(loaded->action(c).kind), static_cast<int>(Policy::defaults().action(c).kind)) << to_string(c);
}
