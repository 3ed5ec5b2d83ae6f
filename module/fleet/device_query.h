#pragma once

// Selecting devices by what the registry knows of them, the way CUCM's Bulk
// Administration selects phones by query: `--where KEY=VALUE`, several terms
// combined with AND (issue 10 item 2).
//
//   name=PATTERN   device name, shell wildcards * ? [..], any case (name=SEP0011*)
//   model=PATTERN  model, any case; "CP-8841" and a BAT Device Type "Cisco 8841" are
//                  the same model (the leading "CP-" / "Cisco " is not compared)
//   lsc=active     an active LSC valid at the given time
//   lsc=expiring:D an active LSC whose notAfter is less than D (30d, 12h, 2w) away,
//                  or already past
//   lsc=unconfirmed  no active LSC, one issued but never confirmed by the phone
//   lsc=revoked    no active or unconfirmed LSC, a revoked one
//   lsc=none       no LSC at all that is active, unconfirmed or revoked (a revoked
//                  phone is never "none", so re-enrolling "none" skips stolen phones)
//   seen=CLASS     the newest last-seen record (any RADIUS node) has that
//                  certificate class: seen=mic (still authenticating with its MIC),
//                  seen=lsc-valid, …; seen=never: not seen at all
//   op=pending     an operation is open (pending or in progress, not past its deadline)
//   op=none        no open operation

#include "fleet/device_batch.h"
#include "pki/certificate.h"
#include "pki/result.h"
#include "registry/last_seen_sink.h"
#include "registry/store.h"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace lscgate {

struct QueryTerm {
    enum class Key { Name, Model, Lsc, Seen, Op };
    enum class LscState { Active, Expiring, Unconfirmed, Revoked, None };
    Key key = Key::Name;
    std::string text;              ///< as typed, for messages ("lsc=expiring:30d")
    std::string pattern;           ///< name / model glob (model: without CP- / Cisco), seen class, op state
    LscState lsc = LscState::None;
    std::int64_t window_seconds = 0;  ///< lsc=expiring:D
};

struct DeviceQuery {
    std::vector<QueryTerm> terms;  ///< ANDed; empty selects every device
    bool needs_last_seen() const;
    std::string describe() const;  ///< "model=CP-8841 AND lsc=none"
};

/// Parses `--where` terms. Errors (kind Input) name the term and list what is accepted.
Result<DeviceQuery> parse_device_query(const std::vector<std::string>& where);

/// The newest last-seen event per device (over every RADIUS node).
using LastSeenIndex = std::unordered_map<std::string, SeenEvent>;
LastSeenIndex index_last_seen(const std::vector<SeenRecord>& records);

/// Where seen= terms read last-seen: `files` (the RADIUS nodes' SQLite last-seen
/// files) when given, else the registry's lscgate.last_seen when `registry` is
/// PostgreSQL. Errors: a SQLite registry without files (kind Config: it holds no
/// last-seen), an unreadable file or server.
Result<LastSeenIndex> load_last_seen(const std::string& registry, const std::vector<std::string>& files);

/// The devices matching every term of `query` at time `now` (Unix seconds: the
/// reference for lsc=active / expiring), in name order, with their model and
/// description. `seen` is needed when query.needs_last_seen(). Reads only; works
/// on every registry backend through Store. Errors: the registry's, and "no
/// device matches …" (kind Input) when the selection is empty.
Result<std::vector<BatchDevice>> select_devices(Store& store, const DeviceQuery& query, UnixTime now,
                                                const LastSeenIndex* seen);

}  // namespace lscgate
