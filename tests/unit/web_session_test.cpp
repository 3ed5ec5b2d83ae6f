// Sessions of the web pages (issue 14; web/session_store.h) with an injected
// clock: 256-bit ids, idle and absolute timeouts, the CSRF token compared in
// constant time, sign-out, ending an account's sessions, and the bound.

#include "web/session_store.h"

#include <gtest/gtest.h>

namespace lscgate::web {
namespace {

constexpr UnixTime kT0 = 1'800'000'000;

TEST(WebSession, IdsAndTokensAre256RandomBitsInHex) {
    auto a = random_token();
    auto b = random_token();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->size(), 64u);
    EXPECT_EQ(a->find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(*a, *b);
}

TEST(WebSession, ASessionIsFoundByItsIdOnly) {
    SessionStore sessions({900, 28800});
    auto id = sessions.create("alice", WebRole::Admin, "$argon2id$h", kT0);
    ASSERT_TRUE(id);
    auto s = sessions.find(*id, kT0 + 1);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->account, "alice");
    EXPECT_EQ(s->role, WebRole::Admin);
    EXPECT_EQ(s->csrf_token.size(), 64u);
    EXPECT_NE(s->csrf_token, *id);
    std::string near = *id;
    near.back() = near.back() == '0' ? '1' : '0';
    EXPECT_FALSE(sessions.find(near, kT0 + 1));
    EXPECT_FALSE(sessions.find(id->substr(0, 63), kT0 + 1));
    EXPECT_FALSE(sessions.find("", kT0 + 1));
    EXPECT_FALSE(sessions.find(std::string(64, 'g'), kT0 + 1));
}

TEST(WebSession, AnIdleSessionEnds) {
    SessionStore sessions({900, 28800});
    auto id = sessions.create("alice", WebRole::Admin, "h", kT0);
    ASSERT_TRUE(id);
    EXPECT_TRUE(sessions.find(*id, kT0 + 899));   // each request moves last_seen
    EXPECT_TRUE(sessions.find(*id, kT0 + 1798));  // 899 s after the previous request
    EXPECT_FALSE(sessions.find(*id, kT0 + 1798 + 900));
    EXPECT_FALSE(sessions.find(*id, kT0 + 1798 + 901));  // gone for good
    EXPECT_EQ(sessions.size(), 0u);
}

TEST(WebSession, AnActiveSessionEndsAtTheAbsoluteTimeout) {
    SessionStore sessions({900, 3600});
    auto id = sessions.create("bob", WebRole::Helpdesk, "h", kT0);
    ASSERT_TRUE(id);
    for (UnixTime t = kT0 + 600; t < kT0 + 3600; t += 600) EXPECT_TRUE(sessions.find(*id, t)) << t - kT0;
    EXPECT_FALSE(sessions.find(*id, kT0 + 3600));
}

TEST(WebSession, TheCsrfTokenMustMatchExactly) {
    auto token = random_token();
    ASSERT_TRUE(token);
    EXPECT_TRUE(token_matches(*token, *token));
    EXPECT_FALSE(token_matches(*token, ""));
    EXPECT_FALSE(token_matches(*token, token->substr(1)));
    std::string changed = *token;
    changed[10] = changed[10] == 'a' ? 'b' : 'a';
    EXPECT_FALSE(token_matches(*token, changed));
    EXPECT_FALSE(token_matches("", ""));  // an empty expected token never matches
}

TEST(WebSession, SignOutAndAccountRemovalEndSessions) {
    SessionStore sessions({900, 28800});
    auto a1 = sessions.create("alice", WebRole::Admin, "h", kT0);
    auto a2 = sessions.create("alice", WebRole::Admin, "h", kT0);
    auto b = sessions.create("bob", WebRole::Helpdesk, "h", kT0);
    ASSERT_TRUE(a1 && a2 && b);
    EXPECT_NE(*a1, *a2);  // every sign-in gets a fresh id
    sessions.remove(*a1);
    EXPECT_FALSE(sessions.find(*a1, kT0));
    EXPECT_TRUE(sessions.find(*a2, kT0));
    sessions.remove_account("alice");
    EXPECT_FALSE(sessions.find(*a2, kT0));
    EXPECT_TRUE(sessions.find(*b, kT0));
}

TEST(WebSession, TheStoreIsBounded) {
    SessionStore sessions({900, 28800}, 3);
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        auto id = sessions.create("user" + std::to_string(i), WebRole::Helpdesk, "h", kT0 + i);
        ASSERT_TRUE(id);
        ids.push_back(*id);
    }
    EXPECT_EQ(sessions.size(), 3u);
    EXPECT_FALSE(sessions.find(ids[0], kT0 + 5));  // the idlest made room
    EXPECT_TRUE(sessions.find(ids[4], kT0 + 5));
}

}  // namespace
}  // namespace lscgate::web
