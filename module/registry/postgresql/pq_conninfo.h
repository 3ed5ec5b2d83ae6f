#pragma once

// Keeping a PostgreSQL password out of every message: libpq quotes parts of the
// connection string it cannot parse (`missing "=" after "s3cret"`), and a
// conninfo can carry the password in three places (password=…, the URI's
// user:password@, ?password=…). Every message built from a connection attempt
// goes through redact_conninfo_secrets before it reaches a log or a user.

#include <string>
#include <string_view>
#include <vector>

namespace lscgate {

/// The password values a connection string may carry, as written and (for URIs)
/// percent-decoded: from libpq's own parse when it succeeds, and from a lenient
/// scan of the text in any case (a malformed string is the one libpq quotes):
/// `password = value` / `password='quoted'`, a bare word after `password`, the
/// URI userinfo `user:secret@`, and `password=` in a URI query. Empty values are
/// not returned. Never fails.
std::vector<std::string> conninfo_secrets(std::string_view conninfo);

/// `message` with every occurrence of each secret of `conninfo` (see
/// conninfo_secrets) replaced by "***".
std::string redact_conninfo_secrets(std::string message, std::string_view conninfo);

/// The text to show for libpq's refusal to parse `conninfo` (PQconninfoParse's
/// message): secrets redacted as above, and every "quoted" fragment libpq took
/// from the string replaced by "..." unless it is "=" or a libpq keyword: a
/// malformed string may have its password anywhere (a bare word, a broken URI
/// quoted whole), where no scan can recognise it.
std::string conninfo_parse_error_text(std::string_view libpq_message, std::string_view conninfo);

/// libpq's message text without its trailing newline(s); libpq ends each with '\n'.
std::string trim_pq_message(std::string_view message);

}  // namespace lscgate
