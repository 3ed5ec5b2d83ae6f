// Web account passwords (issue 14; web/password_hash.h): Argon2id encoded
// hashes through libargon2, verified in constant time, a corrupt stored hash
// an error (never a match, never a plain mismatch), and the password policy.

#include "web/password_hash.h"

#include <gtest/gtest.h>

namespace lscgate::web {
namespace {

// Cheap parameters for the tests that do not look at the cost itself.
const Argon2Params kFast{8 * 1024, 1, 1};

TEST(WebPassword, HashesWithArgon2idAtTheDefaultCost) {
    auto hash = hash_password("correct horse battery");
    ASSERT_TRUE(hash) << hash.message();
    EXPECT_EQ(hash->rfind("$argon2id$v=19$m=65536,t=3,p=1$", 0), 0u) << *hash;
    EXPECT_EQ(hash->find("correct horse"), std::string::npos);
    auto ok = verify_password("correct horse battery", *hash);
    ASSERT_TRUE(ok) << ok.message();
    EXPECT_TRUE(*ok);
}

TEST(WebPassword, AWrongPasswordDoesNotMatch) {
    auto hash = hash_password("correct horse battery", kFast);
    ASSERT_TRUE(hash);
    for (const char* wrong : {"correct horse batterY", "correct horse battery ", "", "correct horse"}) {
        auto r = verify_password(wrong, *hash);
        ASSERT_TRUE(r) << r.message();
        EXPECT_FALSE(*r) << wrong;
    }
}

TEST(WebPassword, EverySaltIsNew) {
    auto a = hash_password("the same password", kFast);
    auto b = hash_password("the same password", kFast);
    ASSERT_TRUE(a && b);
    EXPECT_NE(*a, *b);
    EXPECT_TRUE(*verify_password("the same password", *b));
}

TEST(WebPassword, ACorruptStoredHashIsAnErrorNotAnAnswer) {
    for (const char* stored : {"", "plain-text", "$argon2i$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaA",
                               "$argon2id$v=19$m=65536,t=3,p=1$!!!$???"}) {
        auto r = verify_password("anything at all", stored);
        EXPECT_FALSE(r) << stored;
        if (!r) {
            EXPECT_EQ(r.kind(), ErrorKind::Internal);
        }
    }
}

TEST(WebPassword, ThePolicyRefusesShortLongAndLineBreaks) {
    EXPECT_TRUE(check_password_policy("twelve chars"));
    EXPECT_EQ(check_password_policy("elevenchars").kind(), ErrorKind::Input);
    EXPECT_EQ(check_password_policy(std::string(kMaxPasswordLength + 1, 'x')).kind(), ErrorKind::Input);
    EXPECT_TRUE(check_password_policy(std::string(kMaxPasswordLength, 'x')));
    EXPECT_EQ(check_password_policy("twelve chars\nand more").kind(), ErrorKind::Input);
    EXPECT_EQ(check_password_policy(std::string("twelve chars\0x", 14)).kind(), ErrorKind::Input);
}

}  // namespace
}  // namespace lscgate::web
