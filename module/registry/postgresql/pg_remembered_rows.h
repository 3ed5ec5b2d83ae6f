#pragma once

// The PostgreSQL registry reader's remembered answers: per lookup key (a device
// name, or issuer + serial) the last row read (or "no row"), tagged with the
// change counter it was read under and the reader's connection generation.
// Sized for a whole fleet: a node serving N phones remembers about 2N keys
// (EAP-TLS asks by serial, VPN by name), about 0.4 KB each; at most `capacity`
// keys are kept (default 262 144, about 100 MB at the very most), beyond that a
// new key replaces an arbitrary one of its shard. Sharded locks: request
// threads rarely wait for each other.

#include "registry/registry_reader.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace lscgate {

class PgRememberedRows {
public:
    struct Entry {
        std::optional<RegisteredCertificate> row;
        std::int64_t counter = -1;
        std::uint64_t generation = 0;
    };

    explicit PgRememberedRows(std::size_t capacity = 262'144)
        : per_shard_(std::max<std::size_t>(1, capacity / kShards)) {}

    std::optional<Entry> find(const std::string& key) const {
        const Shard& s = shard(key);
        std::lock_guard lock(s.mutex);
        auto it = s.rows.find(key);
        if (it == s.rows.end()) return std::nullopt;
        return it->second;
    }
    void put(const std::string& key, Entry entry) {
        Shard& s = shard(key);
        std::lock_guard lock(s.mutex);
        auto it = s.rows.find(key);
        if (it != s.rows.end()) {
            it->second = std::move(entry);
            return;
        }
        if (s.rows.size() >= per_shard_) s.rows.erase(s.rows.begin());
        s.rows.emplace(key, std::move(entry));
    }

private:
    static constexpr std::size_t kShards = 64;
    struct Shard {
        mutable std::mutex mutex;
        std::unordered_map<std::string, Entry> rows;
    };
    const Shard& shard(const std::string& key) const { return shards_[std::hash<std::string>{}(key) % kShards]; }
    Shard& shard(const std::string& key) { return shards_[std::hash<std::string>{}(key) % kShards]; }

    const std::size_t per_shard_;
    std::array<Shard, kShards> shards_;
};

}  // namespace lscgate
