#include "cli/serve_metrics.h"

#include "capf/listen_address.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <chrono>
#include <exception>
#include <map>
#include <mutex>
#include <optional>

namespace lscgate::cli {
namespace {

constexpr std::int64_t kRegistryRefreshSeconds = 30;  // at most one registry read per this, whatever the scrape rate
constexpr double kSecondsPerDay = 86400.0;

prometheus::MetricFamily gauge_family(std::string name, std::string help) {
    prometheus::MetricFamily f;
    f.name = std::move(name);
    f.help = std::move(help);
    f.type = prometheus::MetricType::Gauge;
    return f;
}

void add_gauge(prometheus::MetricFamily& f, double value, std::vector<prometheus::ClientMetric::Label> labels = {}) {
    prometheus::ClientMetric m;
    m.label = std::move(labels);
    m.gauge.value = value;
    f.metric.push_back(std::move(m));
}

// The registry's gauges, read when a scrape finds them older than
// kRegistryRefreshSeconds (on the Exposer's thread, never a session's).
class RegistryCollector final : public prometheus::Collectable {
public:
    explicit RegistryCollector(std::function<Result<Store>()> open_store) : open_store_(std::move(open_store)) {}

    // Called from civetweb's C code through prometheus-cpp, which catch nothing:
    // an exception here would end the whole `serve` (std::terminate). Any
    // failure reads as lscgate_registry_up 0.
    std::vector<prometheus::MetricFamily> Collect() const override {
        try {
            std::lock_guard lock(mutex_);
            const auto tick = std::chrono::steady_clock::now();  // a stepped wall clock never freezes the cache
            if (!read_at_ || tick - *read_at_ >= std::chrono::seconds(kRegistryRefreshSeconds)) {
                try {
                    families_ = read(now_utc());
                } catch (...) {
                    families_ = registry_down();
                }
                read_at_ = tick;
            }
            return families_;
        } catch (...) {
            return {};
        }
    }

private:
    static std::vector<prometheus::MetricFamily> registry_down() {
        auto up = gauge_family("lscgate_registry_up", "1 when the last read of the registry for these metrics worked");
        add_gauge(up, 0);
        return {std::move(up)};
    }

    std::vector<prometheus::MetricFamily> read(UnixTime now) const {
        auto up = gauge_family("lscgate_registry_up", "1 when the last read of the registry for these metrics worked");
        std::vector<prometheus::MetricFamily> out;
        auto store = open_store_();
        std::map<std::string, double> by_status;
        std::optional<UnixTime> earliest;
        Status read = store ? Status{} : Status(store.error());
        if (read) {
            read = store->each_certificate(std::nullopt, [&](const CertificateRecord& c) -> Status {
                if (c.kind != CertificateKind::Lsc) return {};
                by_status[std::string(to_string(c.status))] += 1;
                if (c.status == CertificateStatus::Active && (!earliest || c.facts.not_after < *earliest))
                    earliest = c.facts.not_after;
                return {};
            });
        }
        std::optional<UnixTime> capf_not_after;
        if (read) {
            auto capfs = store->list_capf_certificates();
            if (!capfs) read = capfs.error();
            else
                for (const auto& c : *capfs)
                    if (c.status == CapfStatus::Current) capf_not_after = c.facts.not_after;
        }
        add_gauge(up, read ? 1 : 0);
        out.push_back(std::move(up));
        if (!read) return out;
        auto lscs = gauge_family("lscgate_lscs", "LSCs in the registry by status");
        for (const auto* status : {"active", "unconfirmed", "superseded", "revoked", "removed", "fetched"})
            by_status.emplace(status, 0);  // every status present, 0 included, so alerts need no absent()
        for (const auto& [status, n] : by_status) add_gauge(lscs, n, {{"status", status}});
        out.push_back(std::move(lscs));
        if (capf_not_after) {
            auto f = gauge_family("lscgate_capf_certificate_expiry_days",
                                  "days until the current CAPF certificate's notAfter (negative: expired)");
            add_gauge(f, static_cast<double>(*capf_not_after - now) / kSecondsPerDay);
            out.push_back(std::move(f));
        }
        if (earliest) {
            auto f = gauge_family("lscgate_lsc_earliest_expiry_days", "days until the earliest notAfter of an active LSC");
            add_gauge(f, static_cast<double>(*earliest - now) / kSecondsPerDay);
            out.push_back(std::move(f));
        }
        return out;
    }

    std::function<Result<Store>()> open_store_;
    mutable std::mutex mutex_;
    mutable std::optional<std::chrono::steady_clock::time_point> read_at_;
    mutable std::vector<prometheus::MetricFamily> families_;
};

}  // namespace

struct ServeMetrics::Impl {
    std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
    std::shared_ptr<RegistryCollector> from_registry;
    prometheus::Family<prometheus::Counter>& sessions = prometheus::BuildCounter()
                                                           .Name("lscgate_capf_sessions_total")
                                                           .Help("CAPF sessions ended, by result, operation and cause class")
                                                           .Register(*registry);
    prometheus::Counter& refused = prometheus::BuildCounter()
                                       .Name("lscgate_capf_connections_refused_total")
                                       .Help("connections closed without a session (over max_sessions)")
                                       .Register(*registry)
                                       .Add({});
    prometheus::Gauge& in_progress = prometheus::BuildGauge()
                                         .Name("lscgate_capf_sessions_in_progress")
                                         .Help("CAPF sessions running now")
                                         .Register(*registry)
                                         .Add({});
    prometheus::Histogram& enrollment = prometheus::BuildHistogram()
                                            .Name("lscgate_capf_enrollment_duration_seconds")
                                            .Help("accept to end of install sessions that issued an LSC (key generation included)")
                                            .Register(*registry)
                                            .Add({}, prometheus::Histogram::BucketBoundaries{0.5, 1, 2, 5, 10, 30, 60, 120, 300});
    std::unique_ptr<prometheus::Exposer> exposer;
};

Result<std::unique_ptr<ServeMetrics>> ServeMetrics::start(const std::string& listen,
                                                          std::function<Result<Store>()> open_store) {
    // Parsed as --listen and --crl-http are: civetweb's own syntax would take a
    // bare port as every interface, and suffixes such as "s" or "r".
    auto where = capf::parse_host_port(listen);
    if (!where) return fail(ErrorKind::Config, "--metrics " + listen + ": " + where.message());
    const std::string bind = (where->host.find(':') != std::string::npos ? "[" + where->host + "]" : where->host) + ":" +
                             std::to_string(where->port);
    auto impl = std::make_unique<Impl>();
    impl->from_registry = std::make_shared<RegistryCollector>(std::move(open_store));
    try {
        // One thread: a scrape is small, and nothing else is served here.
        impl->exposer = std::make_unique<prometheus::Exposer>(bind, 1);
    } catch (const std::exception& e) {
        return fail(ErrorKind::Config, "--metrics " + listen + ": cannot listen: " + e.what());
    }
    impl->exposer->RegisterCollectable(impl->registry);
    impl->exposer->RegisterCollectable(impl->from_registry);
    return std::make_unique<ServeMetrics>(std::move(impl));
}

ServeMetrics::ServeMetrics(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ServeMetrics::~ServeMetrics() = default;

void ServeMetrics::session_started() { impl_->in_progress.Increment(); }

void ServeMetrics::session_ended(const capf::SessionOutcome& outcome, double seconds) {
    impl_->in_progress.Decrement();
    const std::string operation = outcome.operation.empty() ? "none" : outcome.operation;
    // The class names are a fixed set (capf/session_cause.h): a bounded label.
    const std::string cause =
        outcome.cause_class == capf::SessionCause::None ? "none" : std::string(capf::to_string(outcome.cause_class));
    impl_->sessions
        .Add({{"result", outcome.result.empty() ? "unknown" : outcome.result}, {"operation", operation}, {"cause", cause}})
        .Increment();
    if (operation == "install" && outcome.result == "succeeded") impl_->enrollment.Observe(seconds);
}

void ServeMetrics::connection_refused() { impl_->refused.Increment(); }

}  // namespace lscgate::cli
