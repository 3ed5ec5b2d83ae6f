// Sign-in protection (issue 14; web/login_guard.h) with the time passed in:
// five wrong passwords lock an account for lock_seconds, an expired lock starts
// a fresh count, and an address that fails too often in a minute must wait.

#include "web/login_guard.h"

#include <gtest/gtest.h>

namespace lscgate::web {
namespace {

constexpr UnixTime kT0 = 1'800'000'000;

WebAccount account() {
    WebAccount a;
    a.name = "alice";
    a.role = WebRole::Admin;
    return a;
}

// Applies what after_failed_login decided, as the server writes it to the registry.
void fail_once(WebAccount& a, UnixTime now, const LockoutPolicy& p, bool* locked_now = nullptr) {
    const LoginFailure f = after_failed_login(a, now, p);
    a.failed_logins = f.failed_logins;
    a.locked_until = f.locked_until;
    if (locked_now) *locked_now = f.locked_now;
}

TEST(WebLoginGuard, FiveWrongPasswordsLockTheAccount) {
    const LockoutPolicy policy{5, 900};
    WebAccount a = account();
    bool locked_now = false;
    for (int i = 1; i <= 4; ++i) {
        fail_once(a, kT0 + i, policy, &locked_now);
        EXPECT_FALSE(locked_now) << i;
        EXPECT_FALSE(is_locked(a, kT0 + i)) << i;
        EXPECT_EQ(a.failed_logins, i);
    }
    fail_once(a, kT0 + 5, policy, &locked_now);
    EXPECT_TRUE(locked_now);
    ASSERT_TRUE(a.locked_until);
    EXPECT_EQ(*a.locked_until, kT0 + 5 + 900);
    EXPECT_TRUE(is_locked(a, kT0 + 5));
    EXPECT_TRUE(is_locked(a, kT0 + 5 + 899));
    EXPECT_FALSE(is_locked(a, kT0 + 5 + 900));  // the lock ends on time
}

TEST(WebLoginGuard, AnExpiredLockStartsAFreshCount) {
    const LockoutPolicy policy{3, 60};
    WebAccount a = account();
    for (int i = 0; i < 3; ++i) fail_once(a, kT0, policy);
    ASSERT_TRUE(is_locked(a, kT0));
    fail_once(a, kT0 + 61, policy);  // after the lock: one failure, not a new lock
    EXPECT_FALSE(is_locked(a, kT0 + 61));
    EXPECT_EQ(a.failed_logins, 1);
    EXPECT_FALSE(a.locked_until);
}

TEST(WebLoginGuard, ASuccessfulCountIsTheCallersReset) {
    // A count below the limit decays only through a success (the server writes 0).
    const LockoutPolicy policy{5, 900};
    WebAccount a = account();
    for (int i = 0; i < 4; ++i) fail_once(a, kT0 + 86400 * i, policy);  // days apart: still counted
    EXPECT_EQ(a.failed_logins, 4);
    bool locked_now = false;
    fail_once(a, kT0 + 86400 * 5, policy, &locked_now);
    EXPECT_TRUE(locked_now);
}

TEST(WebLoginGuard, AnAddressFailingTooOftenMustWait) {
    LoginThrottle throttle(3);
    EXPECT_EQ(throttle.wait_seconds("192.0.2.1", kT0), 0);
    for (int i = 0; i < 3; ++i) throttle.record_failure("192.0.2.1", kT0 + i);
    EXPECT_EQ(throttle.wait_seconds("192.0.2.1", kT0 + 10), 50);
    EXPECT_EQ(throttle.wait_seconds("192.0.2.2", kT0 + 10), 0);  // another address is not slowed
    EXPECT_EQ(throttle.wait_seconds("192.0.2.1", kT0 + 60), 0);  // a minute later
    throttle.record_failure("192.0.2.1", kT0 + 60);
    EXPECT_EQ(throttle.wait_seconds("192.0.2.1", kT0 + 61), 0);
}

TEST(WebLoginGuard, TheThrottleRemembersABoundedNumberOfAddresses) {
    LoginThrottle throttle(1, 4);
    for (int i = 0; i < 10; ++i) throttle.record_failure("198.51.100." + std::to_string(i), kT0 + i);
    // The newest addresses are still throttled; the oldest were forgotten.
    EXPECT_GT(throttle.wait_seconds("198.51.100.9", kT0 + 10), 0);
    EXPECT_EQ(throttle.wait_seconds("198.51.100.0", kT0 + 10), 0);
}

}  // namespace
}  // namespace lscgate::web
