#include "capf/host_gates.h"

namespace lscgate::capf {

HostGates::Place::Place(HostGates& gates, const std::string& host)
    : gates_(gates), host_(host),
      entry_(&gates.entries_.try_emplace(host, gates.per_host_).first->second) {
    ++entry_->users;
}

HostGates::Place::~Place() {
    if (inside_) entry_->gate.leave();
    if (--entry_->users == 0) gates_.entries_.erase(host_);
}

asio::awaitable<bool> HostGates::Place::enter(std::chrono::steady_clock::time_point deadline) {
    if (gates_.closed_) co_return false;
    inside_ = co_await entry_->gate.enter(deadline);
    co_return inside_;
}

void HostGates::close() {
    closed_ = true;
    for (auto& [host, entry] : entries_) entry.gate.close();
}

std::string peer_host(const std::string& peer) {
    const auto colon = peer.rfind(':');
    return colon == std::string::npos ? peer : peer.substr(0, colon);
}

}  // namespace lscgate::capf
