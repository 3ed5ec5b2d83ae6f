#pragma once

// Sign-in protection of `lscgate web` (issue 14): an account is locked after
// `failures` wrong passwords in a row for `lock_seconds` (the count lives in the
// registry, web_accounts.failed_logins / locked_until, so a restart does not
// reset it), and each client address may fail only so often a minute (kept in
// memory), which slows guessing across many account names. Every decision takes
// the time as a parameter.

#include "registry/web_records.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace lscgate::web {

/// [web] lockout_failures / lockout_seconds.
struct LockoutPolicy {
    int failures = 5;
    int lock_seconds = 900;
};

/// Whether `account` may not sign in at `now` (its lock has not expired).
bool is_locked(const WebAccount& account, UnixTime now);

/// The lockout state after one more wrong password at `now`.
struct LoginFailure {
    int failed_logins = 0;
    std::optional<UnixTime> locked_until;
    bool locked_now = false;  ///< this failure reached the limit: audit the lockout
};

/// One wrong password for `account` at `now`: the count goes up (a lock that has
/// expired starts a fresh count); at policy.failures the account is locked until
/// now + lock_seconds and the count starts again from 0.
LoginFailure after_failed_login(const WebAccount& account, UnixTime now, const LockoutPolicy& policy);

/// Failed sign-ins per client address in a sliding minute, in memory. Thread-safe.
class LoginThrottle {
public:
    /// `per_minute`: failures an address may have within 60 s before it must wait;
    /// `max_addresses`: addresses remembered at most (the oldest are forgotten).
    explicit LoginThrottle(int per_minute = 20, std::size_t max_addresses = 10000)
        : per_minute_(per_minute), max_addresses_(max_addresses) {}

    /// Seconds `address` must wait before it may try again at `now` (0: it may).
    std::int64_t wait_seconds(const std::string& address, UnixTime now);
    /// Counts one failure of `address` at `now`.
    void record_failure(const std::string& address, UnixTime now);

private:
    struct Window {
        UnixTime start = 0;
        int failures = 0;
    };
    void forget_old(UnixTime now);

    std::mutex mutex_;
    std::map<std::string, Window> windows_;
    int per_minute_;
    std::size_t max_addresses_;
};

}  // namespace lscgate::web
