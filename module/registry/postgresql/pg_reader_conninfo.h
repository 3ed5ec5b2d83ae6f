#pragma once

// The connection string a RADIUS node's registry reader really uses: the
// administrator's conninfo plus bounds on how long a dead or unreachable server
// can hold a request, for every bound the administrator did not set. Together
// with the session's statement_timeout (set by the reader after connecting)
// they bound one lookup on a dead server (documented in the README,
// "The registry on PostgreSQL"):
//   connect_timeout      a connection attempt, per host address (libpq §34.1.2);
//   tcp_user_timeout     data sent but not acknowledged (a server gone from the
//                        network), milliseconds (Linux TCP_USER_TIMEOUT);
//   keepalives*          a server that went silent while we wait for an answer:
//                        idle 5 s, then probes every 2 s, dead after 3 lost.

#include "pki/result.h"

#include <chrono>
#include <string>
#include <string_view>

namespace lscgate {

/// What pg_reader_conninfo adds when the conninfo does not set it.
struct PgReaderBounds {
    std::chrono::seconds connect_timeout{3};
    std::chrono::milliseconds tcp_user_timeout{5000};
    std::chrono::seconds keepalives_idle{5};
    std::chrono::seconds keepalives_interval{2};
    int keepalives_count = 3;
};

/// `conninfo` (a libpq URI or keyword/value string) rewritten as a keyword/value
/// string carrying the same settings plus those of `bounds` it does not set
/// (keepalives=1 with them). Values are single-quoted with \ and ' escaped
/// (libpq §34.1.1.1). Errors (Config): libpq cannot parse `conninfo` (the message
/// shows no password).
Result<std::string> pg_reader_conninfo(std::string_view conninfo, const PgReaderBounds& bounds);

}  // namespace lscgate
