#pragma once

// `lscgate serve` under systemd (Type=notify, policy/systemd/lscgate.service):
// READY=1 once it listens, RELOADING=1 / READY=1 around a SIGHUP, STOPPING=1 at
// SIGTERM, and WATCHDOG=1 from the event loop every half WatchdogSec, so a
// wedged event loop gets the service restarted. Through libsystemd's
// sd_notify(3); without NOTIFY_SOCKET (not started by systemd) every call is a
// no-op, and so is the watchdog without WATCHDOG_USEC (sd_watchdog_enabled(3)).

#include "capf/server.h"

#include <chrono>
#include <string>

namespace lscgate::cli {

class SystemdNotifier final : public capf::ServiceEvents {
public:
    SystemdNotifier();
    void ready(const std::string& status) override;
    void reloading() override;
    void reloaded(const std::string& status) override;
    void alive() override;
    void stopping() override;

private:
    std::chrono::microseconds watchdog_interval_{0};  // half of WATCHDOG_USEC; 0: no watchdog
    std::chrono::steady_clock::time_point next_ping_{};
};

}  // namespace lscgate::cli
