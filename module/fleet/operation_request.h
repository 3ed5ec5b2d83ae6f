#pragma once

// What an operation asks of a phone, from the words an administrator gives it:
// `lscgate op install|fetch|delete` (--auth, --key, --by, --allow-weak-key) and
// the web pages' schedule form (module/web) parse them here, so both accept and
// refuse exactly the same things and hash authentication strings the same way.

#include "pki/result.h"
#include "registry/records.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lscgate {

/// A parsed auth mode and key. `request` has kind, auth mode and key set (no
/// secret, no completes-by). With auth "string:DIGITS", `fixed_digits` holds
/// the validated digits; with bare "string", `generate` is set: a fresh string
/// per device. `warnings`: what the caller must show (a weak key allowed).
struct RequestOptions {
    OperationRequest request;
    std::string fixed_digits;
    bool generate = false;
    std::vector<std::string> warnings;
};

/// Parses `auth` (null | string | string:DIGITS | lsc | mic | lsc-or-mic |
/// mic-or-lsc) and `key` (rsa:2048, ec:p256, …) for an operation of `kind`. A key
/// FreeRADIUS refuses by default (rsa:1024) is refused for an install unless
/// `allow_weak_key`, then named in `warnings`. Errors (kind Input, or as the key
/// and mode parsers say) carry the message to show.
Result<RequestOptions> parse_request_options(OperationKind kind, const std::string& auth, const std::string& key,
                                             bool allow_weak_key);

/// A completes-by deadline as administrators type it (pki/time_text.h: "+7d",
/// "2026-12-01T17:00", …); "" is none. Errors (Input): unreadable, or not after `now`.
Result<std::optional<UnixTime>> parse_completes_by(const std::string& text, UnixTime now);

/// `n` random decimal digits from OpenSSL's RAND_bytes, without modulo bias: a
/// generated authentication string.
std::string random_auth_digits(int n);

/// The digits of a generated authentication string (8, as CUCM generates them).
inline constexpr int kGeneratedAuthDigits = 8;

/// One line per soft client (Jabber, …) among `names` for an install: with
/// auth=null whoever claims such a guessable name first gets its LSC. Empty for
/// other kinds.
std::vector<std::string> soft_client_warnings(const std::vector<std::string>& names, OperationKind kind);

/// Requests for Store::schedule_operations, one per name, with each secret
/// already hashed (PBKDF2, slow on purpose: done before any write lock), and the
/// authentication string of each (generated ones to show once; "" when none).
struct PreparedSchedule {
    std::vector<std::pair<std::string, OperationRequest>> items;
    std::vector<std::string> auth_strings;
};
/// Builds the requests for `names` from `options` and `completes_by`.
/// Errors: hashing failed (Internal).
Result<PreparedSchedule> prepare_schedule(const std::vector<std::string>& names, const RequestOptions& options,
                                          std::optional<UnixTime> completes_by);

}  // namespace lscgate
