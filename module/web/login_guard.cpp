#include "web/login_guard.h"

#include <algorithm>

namespace lscgate::web {
namespace {
constexpr std::int64_t kWindowSeconds = 60;
}

bool is_locked(const WebAccount& account, UnixTime now) {
    return account.locked_until.has_value() && *account.locked_until > now;
}

LoginFailure after_failed_login(const WebAccount& account, UnixTime now, const LockoutPolicy& policy) {
    LoginFailure out;
    // A lock that expired starts a fresh count: its failures were already paid for.
    const bool expired = account.locked_until.has_value() && *account.locked_until <= now;
    const int before = expired ? 0 : account.failed_logins;
    out.failed_logins = before + 1;
    if (out.failed_logins >= policy.failures) {
        out.failed_logins = 0;
        out.locked_until = now + policy.lock_seconds;
        out.locked_now = true;
    }
    return out;
}

std::int64_t LoginThrottle::wait_seconds(const std::string& address, UnixTime now) {
    std::lock_guard lock(mutex_);
    auto it = windows_.find(address);
    if (it == windows_.end() || now - it->second.start >= kWindowSeconds) return 0;
    if (it->second.failures < per_minute_) return 0;
    return std::max<std::int64_t>(1, it->second.start + kWindowSeconds - now);
}

void LoginThrottle::record_failure(const std::string& address, UnixTime now) {
    std::lock_guard lock(mutex_);
    auto it = windows_.find(address);
    if (it == windows_.end()) {
        if (windows_.size() >= max_addresses_) forget_old(now);
        windows_[address] = Window{now, 1};
        return;
    }
    if (now - it->second.start >= kWindowSeconds) it->second = Window{now, 1};
    else ++it->second.failures;
}

// Called with the mutex held: drops the windows that are over; if every one is
// still running, the oldest one, so the map never grows past max_addresses_.
void LoginThrottle::forget_old(UnixTime now) {
    std::erase_if(windows_, [now](const auto& item) { return now - item.second.start >= kWindowSeconds; });
    if (windows_.size() < max_addresses_) return;
    auto oldest = std::min_element(windows_.begin(), windows_.end(),
                                   [](const auto& a, const auto& b) { return a.second.start < b.second.start; });
    windows_.erase(oldest);
}

}  // namespace lscgate::web
