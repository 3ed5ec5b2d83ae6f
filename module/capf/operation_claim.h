#pragma once

// A CAPF session's hold on the operation it runs (issue 8 item 6): taken with
// Store::claim_operation, which is atomic across every connection to the
// registry (two `lscgate serve` on one PostgreSQL registry, or on one SQLite
// file), and remembered in this process while the session runs, so that a claim
// a finished session could not hand back (the registry was locked when it tried)
// is taken over by this process's next session at once instead of after
// operation_claim_stale_seconds.

#include "registry/store.h"

#include <cstdint>
#include <optional>
#include <string>

namespace lscgate::capf {

class OperationClaim {
public:
    /// Claims `operation_id` for the calling session. nullopt: another session
    /// holds it (of this process, or of another one and not yet stale), or it
    /// ended meanwhile; the session must not run it. Errors: the registry's.
    static Result<std::optional<OperationClaim>> take(Store& store, std::int64_t operation_id, UnixTime now,
                                                      int stale_after_seconds);
    /// How this process names itself in the claims it writes ("in progress in
    /// lscgate pid 1234 on host, started 2026-…Z"): shown by `lscgate op list`.
    static const std::string& claimer();

    OperationClaim(OperationClaim&& other) noexcept : id_(other.id_) { other.id_ = 0; }
    OperationClaim& operator=(OperationClaim&&) = delete;
    OperationClaim(const OperationClaim&) = delete;
    OperationClaim& operator=(const OperationClaim&) = delete;
    /// Forgets the claim in this process (the registry row is the session's to settle).
    ~OperationClaim();

private:
    explicit OperationClaim(std::int64_t id) : id_(id) {}
    std::int64_t id_;
};

}  // namespace lscgate::capf
