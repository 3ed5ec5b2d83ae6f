#pragma once

// The trust set for phone proofs (LSC re-key, MIC) of `lscgate serve`.

#include "pki/result.h"
#include "pki/trust_loader.h"
#include "pki/trust_set.h"
#include "registry/registry_reader.h"

#include <memory>
#include <mutex>
#include <string>

namespace lscgate::capf {

// The trust set for phone proofs (LSC re-key, MIC), re-read from the registry
// through the TrustLoader RADIUS uses; a session keeps the set it started with.
class TrustKeeper {
public:
    TrustKeeper(std::unique_ptr<RegistryReader> registry, TrustLoader loader)
        : registry_(std::move(registry)), loader_(std::move(loader)) {}

    // Rebuilds the set if the registry's CAPF certificates changed. Returns a log
    // line describing the new set, "" when unchanged, or the error (the set in
    // use is kept: the registry being unreadable fails the sessions anyway).
    Result<std::string> refresh() { return rebuild(loader_, signature_); }

    // A reload: the set built with `loader` (a new CAPF certificate, new
    // mic_roots) whatever the registry's signature; on success `loader` is kept
    // for the refreshes that follow, on error nothing changes.
    Result<std::string> refresh_with(TrustLoader loader) {
        auto line = rebuild(loader, "");
        if (line) loader_ = std::move(loader);
        return line;
    }
    std::shared_ptr<const TrustSet> current() const {
        std::lock_guard lock(mutex_);
        return current_;
    }

private:
    Result<std::string> rebuild(const TrustLoader& loader, const std::string& unchanged_since) {
        auto loaded = loader.load(*registry_, unchanged_since);
        if (!loaded) return loaded.error();
        if (!*loaded) return std::string();
        const TrustMaterial& m = **loaded;
        auto built = TrustSet::build(m.capf_anchors(), m.mic_anchors());
        if (!built) return built.error();
        auto fresh = std::make_shared<const TrustSet>(std::move(*built));
        {
            std::lock_guard lock(mutex_);
            current_ = std::move(fresh);
        }
        signature_ = m.signature;
        return "capf trust loaded: capf_trusted=" + std::to_string(m.registry_capf) +
               " (current and previous in the registry) extra=" + std::to_string(m.capf.size() - m.registry_capf) +
               " mic_roots=" + std::to_string(m.mic_roots.size());
    }

    std::unique_ptr<RegistryReader> registry_;
    TrustLoader loader_;
    std::string signature_;  // touched by one refresh or reload at a time (serve runs them in turn)
    mutable std::mutex mutex_;
    std::shared_ptr<const TrustSet> current_;
};

}  // namespace lscgate::capf
