#pragma once

// Sessions of `lscgate web` (issue 14), in memory in the web process: a restart
// signs everyone out, and no session id is ever written to disk or the registry.
// An id is 256 random bits (RAND_bytes) as 64 hex digits; it is looked up by its
// SHA-256 and then compared in constant time (CRYPTO_memcmp), so neither the map
// nor the comparison leaks how much of a guessed id was right. Each session
// carries its own CSRF token (another 256 random bits), sent in every form and
// checked on every state-changing request. A session ends `idle_seconds` after
// its last request or `absolute_seconds` after sign-in, whichever comes first;
// the time is always a parameter.

#include "pki/result.h"
#include "registry/web_records.h"

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace lscgate::web {

/// [web] session_idle / session_absolute.
struct SessionPolicy {
    int idle_seconds = 900;
    int absolute_seconds = 28800;
};

/// One signed-in account.
struct Session {
    std::string account;
    WebRole role = WebRole::Helpdesk;
    std::string csrf_token;     ///< 64 hex digits; forms send it back as `csrf`
    std::string password_hash;  ///< the account's hash at sign-in: a changed password ends the session
    UnixTime created_at = 0;
    UnixTime last_seen = 0;
};

/// 256 random bits from RAND_bytes as 64 lower-case hex digits.
/// Errors (Internal): no randomness.
Result<std::string> random_token();

/// Whether `text` has a token's form: 64 lower-case hex digits.
bool is_token_text(std::string_view text);

/// Whether `presented` is `expected` (both tokens), compared in constant time.
/// An empty or wrong-length token never matches.
bool token_matches(std::string_view expected, std::string_view presented);

class SessionStore {
public:
    /// `max_sessions`: sessions kept at most; a new one beyond it ends the one
    /// idle the longest (memory stays bounded whatever a client does).
    explicit SessionStore(SessionPolicy policy, std::size_t max_sessions = 1000)
        : policy_(policy), max_sessions_(max_sessions) {}

    /// A new session for `account` (a fresh id: an id from before sign-in is never
    /// reused, so a planted cookie cannot ride the sign-in). Returns its id.
    /// Errors (Internal): no randomness.
    Result<std::string> create(const std::string& account, WebRole role, const std::string& password_hash,
                               UnixTime now);
    /// The live session with id `id` at `now`, its last_seen moved to `now`; an
    /// expired one is removed and not returned.
    std::optional<Session> find(std::string_view id, UnixTime now);
    /// Ends the session `id` (sign-out).
    void remove(std::string_view id);
    /// Ends every session of `account`.
    void remove_account(const std::string& account);
    std::size_t size() const;
    const SessionPolicy& policy() const { return policy_; }

private:
    struct Entry {
        std::string id;
        Session session;
    };
    bool expired(const Session& s, UnixTime now) const;
    void make_room(UnixTime now);

    SessionPolicy policy_;
    std::size_t max_sessions_;
    mutable std::mutex mutex_;
    std::map<std::string, Entry> by_digest_;  ///< SHA-256(id) hex → session
};

}  // namespace lscgate::web
