#include "capf/operation_claim.h"

#include <unistd.h>

#include <array>
#include <mutex>
#include <set>

namespace lscgate::capf {

namespace {

// The operations this process's sessions hold right now.
struct LiveClaims {
    std::mutex lock;
    std::set<std::int64_t> ids;
};

LiveClaims& live_claims() {
    static LiveClaims claims;
    return claims;
}

}  // namespace

const std::string& OperationClaim::claimer() {
    static const std::string name = [] {
        std::array<char, 256> host{};
        if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
        // The start time tells this process from an earlier one that had the same pid.
        return "in progress in lscgate pid " + std::to_string(::getpid()) + " on " + std::string(host.data()) +
               ", started " + format_utc(now_utc());
    }();
    return name;
}

Result<std::optional<OperationClaim>> OperationClaim::take(Store& store, std::int64_t operation_id, UnixTime now,
                                                           int stale_after_seconds) {
    LiveClaims& live = live_claims();
    {
        std::lock_guard<std::mutex> g(live.lock);
        if (!live.ids.insert(operation_id).second) return std::optional<OperationClaim>{};  // a session here runs it
    }
    OperationClaim held(operation_id);  // forgets it again on every early return
    auto claimed = store.claim_operation(operation_id, now, stale_after_seconds, claimer());
    if (!claimed) return claimed.error();
    if (!*claimed) return std::optional<OperationClaim>{};
    return std::optional<OperationClaim>{std::move(held)};
}

OperationClaim::~OperationClaim() {
    if (id_ == 0) return;
    LiveClaims& live = live_claims();
    std::lock_guard<std::mutex> g(live.lock);
    live.ids.erase(id_);
}

}  // namespace lscgate::capf
