#pragma once

// The PostgreSQL registry reader's remembered answers: per lookup key (a device
// name, or issuer + serial) the last row read (or "no row"), tagged with the
// change counter it was read under and the reader's connection generation.
// Sized for a whole fleet: a node serving N phones remembers about 2N keys
// (EAP-TLS asks by serial, VPN by name), typically 0.3-0.5 KB each (the strings
// of the row: device name, serial, issuer DN, fingerprint); at most `capacity`
// keys are kept (default 262 144: some 100 MB for a fleet that large), beyond
// that a new key replaces another of its shard. Sharded locks: request
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
        std::uint64_t generation = 0;  // 0: never current (read while the registry was being replaced)
        std::uint64_t server = 0;      // pg_server_identity of the database it was read from
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
        if (s.rows.size() >= per_shard_) evict_one(s);
        s.rows.emplace(key, std::move(entry));
    }

private:
    static constexpr std::size_t kShards = 64;
    struct Shard {
        mutable std::mutex mutex;
        std::unordered_map<std::string, Entry> rows;
        std::size_t victim = 0;
    };
    // Replaces a key from a bucket picked by a moving stride: spread over the
    // table (begin() would be the newest key, in libstdc++, over and over).
    static void evict_one(Shard& s) {
        const std::size_t buckets = s.rows.bucket_count();
        std::size_t b = (s.victim += 7919) % buckets;
        for (std::size_t i = 0; i < buckets; ++i, b = (b + 1) % buckets) {
            if (s.rows.bucket_size(b) == 0) continue;
            const std::string victim = s.rows.begin(b)->first;
            s.rows.erase(victim);
            return;
        }
    }
    const Shard& shard(const std::string& key) const { return shards_[std::hash<std::string>{}(key) % kShards]; }
    Shard& shard(const std::string& key) { return shards_[std::hash<std::string>{}(key) % kShards]; }

    const std::size_t per_shard_;
    std::array<Shard, kShards> shards_;
};

}  // namespace lscgate
