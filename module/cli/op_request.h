#pragma once

// What `op install|fetch|delete` and `rollout create` ask of a phone, from
// their --auth, --key and --allow-weak-key options: one parser, so the two
// commands accept and refuse exactly the same things.

#include "pki/result.h"
#include "registry/records.h"

#include <string>
#include <vector>

namespace lscgate::cli {

/// A parsed --auth/--key. `request` has kind, auth mode and key set (no secret,
/// no completes-by). With --auth string:DIGITS, `fixed_digits` holds the
/// (validated) digits; with bare --auth string, `generate` is set: a fresh
/// string per device.
struct RequestOptions {
    OperationRequest request;
    std::string fixed_digits;
    bool generate = false;
};

/// Parses --auth (null | string | string:DIGITS | lsc | mic | lsc-or-mic |
/// mic-or-lsc) and --key for an operation of `kind`. A key FreeRADIUS refuses
/// by default (rsa:1024) is refused for an install unless `allow_weak_key`,
/// then warned about on stderr. Errors (kind Input or as the parsers say) carry
/// the message to print.
Result<RequestOptions> parse_request_options(OperationKind kind, const std::string& auth, const std::string& key,
                                             bool allow_weak_key);

/// `n` random decimal digits from OpenSSL's RAND_bytes, without modulo bias:
/// a generated authentication string.
std::string random_digits(int n);

/// Warns on stderr about soft clients (Jabber, …) among `names` for an install
/// with auth=null: whoever claims such a guessable name first gets its LSC.
void warn_null_for_soft_clients(const std::vector<std::string>& names, OperationKind kind);

}  // namespace lscgate::cli
