#pragma once

// The shared secrets of the NAS (switches) that accept CoA from this host: the
// file [coa] secrets_file names, never lscgate.toml itself (the Debian package
// installs that world-readable). Each switch's `aaa server radius dynamic-author`
// / `client IP server-key SECRET` holds the same secret (module/coa/COA.md).
//
//   # coa-secrets (mode 0600): ADDRESS SECRET [PORT]
//   192.0.2.10    s3cr3t-for-access-sw1
//   2001:db8::20  other-secret  3799     # this NAS listens on the RFC port
//   *             shared-by-all-others   # any NAS not listed above
//
// One NAS a line: an IPv4 or IPv6 literal (compared in canonical form), the
// secret (no whitespace), optionally the NAS's CoA port (else [coa] port).
// Blank lines and lines starting with '#' are ignored. Errors name FILE:LINE,
// never the secret.

#include "pki/result.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace lscgate {

/// One NAS's entry.
struct NasSecret {
    std::string secret;                  ///< RADIUS shared secret (RFC 2865 §3), never logged
    std::optional<std::uint16_t> port;   ///< this NAS's CoA port, when it is not [coa] port
};

class NasSecrets {
public:
    /// Parses the text of a secrets file; `origin` names it in errors. Errors
    /// (Config): a malformed line, an address that is not an IP literal, an
    /// address listed twice, a port outside 1-65535 ("ORIGIN:LINE: ...").
    static Result<NasSecrets> parse(std::string_view text, const std::string& origin);
    /// Reads and parses `file`, refusing it (Config, with the chmod fix) when group
    /// or others may access it, as ssh(1) refuses a readable identity file. Errors
    /// (Config): missing or unreadable file, and parse()'s.
    static Result<NasSecrets> load(const std::filesystem::path& file);

    /// The entry of `nas` (an address literal, any spelling), else the `*` entry,
    /// else nullptr.
    const NasSecret* find(const std::string& nas) const;
    /// Listed addresses, not counting `*`.
    std::size_t size() const { return by_address_.size(); }

private:
    std::map<std::string, NasSecret> by_address_;  // canonical address text -> entry
    std::optional<NasSecret> fallback_;            // the `*` line
};

/// `text` as its canonical address literal (inet_ntop of inet_pton: "::1",
/// "192.0.2.10"); nullopt when it is not an IPv4 or IPv6 literal.
std::optional<std::string> canonical_address(const std::string& text);

}  // namespace lscgate
