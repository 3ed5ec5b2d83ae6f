#include "cli/systemd_notify.h"

#include "pki/printable.h"

#include <systemd/sd-daemon.h>

namespace lscgate::cli {
namespace {

// STATUS= is one line of the service's `systemctl status`: keep it one line.
std::string status_line(const std::string& text) {
    std::string line = escape_nonprintable(text);
    return line.size() > 200 ? line.substr(0, 200) : line;
}

}  // namespace

SystemdNotifier::SystemdNotifier() {
    std::uint64_t usec = 0;
    // > 0: systemd expects WATCHDOG=1 within usec (WatchdogSec=) from this process.
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) watchdog_interval_ = std::chrono::microseconds(usec / 2);
}

void SystemdNotifier::ready(const std::string& status) {
    sd_notify(0, ("READY=1\nSTATUS=" + status_line(status)).c_str());
    next_ping_ = std::chrono::steady_clock::now();
    alive();
}

void SystemdNotifier::reloading() { sd_notify(0, "RELOADING=1\nSTATUS=reloading the configuration (SIGHUP)"); }

void SystemdNotifier::reloaded(const std::string& status) {
    sd_notify(0, ("READY=1\nSTATUS=" + status_line(status)).c_str());
}

void SystemdNotifier::alive() {
    if (watchdog_interval_.count() == 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (now < next_ping_) return;
    sd_notify(0, "WATCHDOG=1");
    next_ping_ = now + watchdog_interval_;
}

void SystemdNotifier::stopping() { sd_notify(0, "STOPPING=1\nSTATUS=stopping: waiting for running sessions"); }

}  // namespace lscgate::cli
