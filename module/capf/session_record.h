#pragma once

// What each CAPF session of `lscgate serve` leaves behind: its one log line and
// its row in the registry (CAPF session history, issue 10 item 4). The row is
// written first, then the line, then the connection closes: whoever sees the
// connection end (a phone, a test) finds both.

#include "capf/byte_stream.h"
#include "capf/session.h"
#include "registry/store.h"

#include <cstdint>
#include <string>

namespace lscgate::capf {

/// "capf session=SID peer=ADDR:PORT device=… mode=… op=… result=… [class=…] end=…
/// [serial=…] [cause="…"] [note="…"] ms=N" (ms from `started` to now); secrets never appear.
std::string session_log_line(std::uint32_t sid, const std::string& peer, const SessionOutcome& outcome,
                             Clock::time_point started);

/// Records the session in the registry, keeping the newest `keep_rows` rows. A row
/// that cannot be written never fails the session: `outcome.note` says so.
void record_session(Store& store, std::int64_t keep_rows, const std::string& peer, SessionOutcome& outcome,
                    Clock::time_point started);

}  // namespace lscgate::capf
