#pragma once

// `lscgate serve --metrics ADDR:PORT`: Prometheus metrics in the text exposition
// format (https://prometheus.io/docs/instrumenting/exposition_formats/), served
// by prometheus-cpp's pull Exposer at GET /metrics (issue 10 item 7).
//
// From the CAPF sessions (counted as they end, in memory since `serve` started):
//   lscgate_capf_sessions_total{result,operation,cause} counter (cause: the class, "none" when succeeded)
//   lscgate_capf_connections_refused_total             counter (over max_sessions)
//   lscgate_capf_sessions_in_progress                  gauge
//   lscgate_capf_enrollment_duration_seconds           histogram (install sessions that issued an LSC)
// From the registry (read at scrape time, at most every 30 s):
//   lscgate_registry_up                                gauge, 1 when the last read worked
//   lscgate_lscs{status}                               gauge (active, unconfirmed, superseded, revoked, ...)
//   lscgate_capf_certificate_expiry_days               gauge, the current CAPF certificate's notAfter - now
//   lscgate_lsc_earliest_expiry_days                   gauge, the earliest active LSC's notAfter - now
// Labels hold bounded values only: a session's free-text cause stays in the log.

#include "capf/server.h"
#include "pki/result.h"
#include "registry/store.h"

#include <functional>
#include <memory>
#include <string>

namespace lscgate::cli {

class ServeMetrics final : public capf::SessionObserver {
public:
    /// Listens on `listen` (ADDR:PORT; [::1]:PORT for IPv6). `open_store` opens
    /// the registry for the registry gauges (called at scrape time, never in a
    /// session's path). Errors (kind Config): a malformed address, or the port
    /// cannot be bound.
    static Result<std::unique_ptr<ServeMetrics>> start(const std::string& listen,
                                                       std::function<Result<Store>()> open_store);
    struct Impl;
    /// Use start(); Impl is this file's own.
    explicit ServeMetrics(std::unique_ptr<Impl> impl);
    ~ServeMetrics() override;
    ServeMetrics(const ServeMetrics&) = delete;
    ServeMetrics& operator=(const ServeMetrics&) = delete;

    void session_started() override;
    void session_ended(const capf::SessionOutcome& outcome, double seconds) override;
    void connection_refused() override;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace lscgate::cli
