#include "registry/audit_chain.h"

#include "pki/bytes.h"
#include "pki/certificate.h"

#include <algorithm>
#include <cctype>

namespace lscgate {

namespace {

void append_field(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    out += ':';
    out += std::to_string(value.size());
    out += ':';
    out += value;
    out += '\n';
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

}  // namespace

std::string audit_canonical_text(std::string_view prev_hash, const AuditEvent& row) {
    std::string out = "lscgate-audit-v1\n";
    out += "prev:";
    out += prev_hash;
    out += "\nid:" + std::to_string(row.id) + "\nat:" + std::to_string(row.at) + "\n";
    append_field(out, "actor", row.actor);
    append_field(out, "action", row.action);
    append_field(out, "device", row.device);
    append_field(out, "detail", row.detail);
    return out;
}

std::string audit_row_hash(std::string_view prev_hash, const AuditEvent& row) {
    const std::string text = audit_canonical_text(prev_hash, row);
    return lower(sha256_hex(as_bytes(text)));
}

void AuditChainVerifier::mark(const AuditEvent& row, std::string what) {
    if (report_.broken) return;
    report_.broken = AuditChainBreak{report_.rows, row.id, std::move(what)};
}

void AuditChainVerifier::add(const AuditEvent& row) {
    ++report_.rows;
    const std::string expected_prev = report_.head_hash;
    const std::string previous = report_.rows == 1 ? std::string("the start of the chain")
                                                   : "row " + std::to_string(report_.rows - 1) + " (id " +
                                                         std::to_string(previous_id_) + ")";
    if (row.hash.empty()) {
        mark(row, "the row has no chain hash: it was inserted behind lscgate's back");
    } else if (audit_row_hash(row.prev_hash, row) != row.hash) {
        mark(row, "the row's content (id, time, actor, action, device or detail) does not match its hash: "
                  "the row was edited or renumbered");
    } else if (row.prev_hash != expected_prev) {
        mark(row, "the row is not chained to " + previous +
                      ": a row was deleted, inserted or reordered before it");
    }
    if (anchor_ && row.hash == *anchor_) anchor_seen_ = true;
    previous_id_ = row.id;
    report_.head_id = row.id;
    report_.head_hash = row.hash;
}

AuditChainReport AuditChainVerifier::finish() {
    if (anchor_ && !anchor_seen_ && !report_.broken)
        report_.broken = AuditChainBreak{report_.rows + 1, 0,
                                         "no row carries the anchor hash " + *anchor_ +
                                             ": rows were deleted from the end of the trail, or it was rewritten"};
    return report_;
}

}  // namespace lscgate
