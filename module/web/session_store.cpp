#include "web/session_store.h"

#include "pki/bytes.h"
#include "pki/certificate.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>

namespace lscgate::web {
namespace {

constexpr std::size_t kTokenBytes = 32;
constexpr std::size_t kTokenHexDigits = 2 * kTokenBytes;

// The map key: the id's SHA-256, so a lookup compares digests, never the id itself.
std::string digest_of(std::string_view id) { return sha256_hex(as_bytes(id)); }

}  // namespace

bool is_token_text(std::string_view text) {
    return text.size() == kTokenHexDigits && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

Result<std::string> random_token() {
    std::array<unsigned char, kTokenBytes> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return fail("no randomness for a token");
    std::string hex = to_hex(ByteView(bytes.data(), bytes.size()));
    for (auto& c : hex)
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    return hex;
}

bool token_matches(std::string_view expected, std::string_view presented) {
    if (expected.size() != kTokenHexDigits || presented.size() != expected.size()) return false;
    return CRYPTO_memcmp(expected.data(), presented.data(), expected.size()) == 0;
}

bool SessionStore::expired(const Session& s, UnixTime now) const {
    return now - s.last_seen >= policy_.idle_seconds || now - s.created_at >= policy_.absolute_seconds;
}

Result<std::string> SessionStore::create(const std::string& account, WebRole role, const std::string& password_hash,
                                         UnixTime now) {
    auto id = random_token();
    if (!id) return id.error();
    auto csrf = random_token();
    if (!csrf) return csrf.error();
    std::lock_guard lock(mutex_);
    make_room(now);
    by_digest_[digest_of(*id)] = Entry{*id, Session{account, role, *csrf, password_hash, now, now}};
    return *id;
}

std::optional<Session> SessionStore::find(std::string_view id, UnixTime now) {
    if (!is_token_text(id)) return std::nullopt;
    const std::string digest = digest_of(id);
    std::lock_guard lock(mutex_);
    auto it = by_digest_.find(digest);
    if (it == by_digest_.end() || !token_matches(it->second.id, id)) return std::nullopt;
    if (expired(it->second.session, now)) {
        by_digest_.erase(it);
        return std::nullopt;
    }
    it->second.session.last_seen = now;
    return it->second.session;
}

void SessionStore::remove(std::string_view id) {
    if (!is_token_text(id)) return;
    const std::string digest = digest_of(id);
    std::lock_guard lock(mutex_);
    auto it = by_digest_.find(digest);
    if (it != by_digest_.end() && token_matches(it->second.id, id)) by_digest_.erase(it);
}

void SessionStore::remove_account(const std::string& account) {
    std::lock_guard lock(mutex_);
    std::erase_if(by_digest_, [&](const auto& item) { return item.second.session.account == account; });
}

std::size_t SessionStore::size() const {
    std::lock_guard lock(mutex_);
    return by_digest_.size();
}

// Called with the mutex held: expired sessions go first; if none has, the one
// idle the longest makes room.
void SessionStore::make_room(UnixTime now) {
    if (by_digest_.size() < max_sessions_) return;
    std::erase_if(by_digest_, [&](const auto& item) { return expired(item.second.session, now); });
    if (by_digest_.size() < max_sessions_) return;
    auto idlest = std::min_element(by_digest_.begin(), by_digest_.end(), [](const auto& a, const auto& b) {
        return a.second.session.last_seen < b.second.session.last_seen;
    });
    by_digest_.erase(idlest);
}

}  // namespace lscgate::web
