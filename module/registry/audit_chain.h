#pragma once

// The tamper-evident audit trail: every audit row carries `hash`, a SHA-256
// over the previous row's hash and the row's own canonical content, and
// `prev_hash`, the hash it was chained to. Both registry engines (SQLite,
// PostgreSQL) compute it with audit_row_hash() below, in C++, so a row copied
// between engines (`lscgate registry copy`) keeps its hash, and `lscgate audit
// verify` checks either engine the same way.
//
// Canonical text of a row (version 1), hashed as UTF-8 bytes exactly as stored:
//
//   "lscgate-audit-v1\n"
//   "prev:"   <prev_hash: 64 lower-case hex digits>        "\n"
//   "id:"     <id, decimal>                                "\n"
//   "at:"     <at, Unix seconds UTC, decimal>              "\n"
//   "actor:"  <byte length, decimal> ":" <actor bytes>     "\n"
//   "action:" <byte length, decimal> ":" <action bytes>    "\n"
//   "device:" <byte length, decimal> ":" <device bytes>    "\n"
//   "detail:" <byte length, decimal> ":" <detail bytes>    "\n"
//
// hash = lower-case hex of SHA-256(canonical text). The first row's prev_hash
// is kAuditGenesisHash (64 zeros). Text fields are length-prefixed, so no two
// different rows share a canonical text; the id is in it, so renumbering a row
// (moving it) changes its hash.
//
// What the chain proves: a row edited, deleted, inserted or moved without
// recomputing every later hash breaks it at that row or the next. There is no
// secret in the hash: someone able to write the database could recompute the
// whole tail. Comparing the head (`audit verify` prints it; `audit export`
// carries every hash) with a copy kept elsewhere (a SIEM) closes that gap, and
// also catches rows deleted from the end (`audit verify --anchor`).

#include "pki/result.h"
#include "registry/records.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lscgate {

/// prev_hash of the first audit row.
inline constexpr std::string_view kAuditGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// The canonical text of `row` chained to `prev_hash` (format in the file comment).
std::string audit_canonical_text(std::string_view prev_hash, const AuditEvent& row);

/// Lower-case hex SHA-256 of audit_canonical_text(prev_hash, row). Uses the
/// row's id, at, actor, action, device and detail; ignores its stored hashes.
std::string audit_row_hash(std::string_view prev_hash, const AuditEvent& row);

/// The first place the chain is broken.
struct AuditChainBreak {
    std::int64_t row_number = 0;  ///< 1-based position in id order
    std::int64_t id = 0;          ///< the row's id (0: the break is past the last row)
    std::string what;             ///< what is wrong and what that means, one sentence
};

/// Where a verification stands: rows checked, the head, the first break.
struct AuditChainReport {
    std::int64_t rows = 0;
    std::int64_t head_id = 0;                   ///< id of the last row (0: empty)
    std::string head_hash{kAuditGenesisHash};   ///< stored hash of the last row
    std::optional<AuditChainBreak> broken;      ///< the first break, if any
    bool intact() const { return !broken; }
};

/// Checks rows fed in id order, remembering the first break (later rows are
/// still counted, not judged: one edit would otherwise be reported twice).
/// Per row, in this order: a row without hash was inserted behind lscgate's
/// back; a hash that does not match the row's content (with its own prev_hash)
/// means the row was edited (or renumbered); a prev_hash other than the
/// previous row's hash means a row was deleted, inserted or reordered before it.
class AuditChainVerifier {
public:
    /// `anchor`: a head hash recorded earlier (a SIEM's copy); finish() reports
    /// a break when no row carries it (rows were deleted from the end, or the
    /// chain was rewritten).
    explicit AuditChainVerifier(std::optional<std::string> anchor = std::nullopt) : anchor_(std::move(anchor)) {}
    void add(const AuditEvent& row);
    /// The report; call once after the last row.
    AuditChainReport finish();

private:
    void mark(const AuditEvent& row, std::string what);

    std::optional<std::string> anchor_;
    bool anchor_seen_ = false;
    std::int64_t previous_id_ = 0;
    AuditChainReport report_;
};

}  // namespace lscgate
