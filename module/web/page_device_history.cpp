// The device page's history sections (issue 14): the CAPF sessions `lscgate
// serve` recorded for the phone (Store::each_capf_session, as `lscgate capf
// sessions --device`), each with its cause class and cause in words, and what
// the RADIUS nodes last saw of it (fleet/last_seen_source.h, as `lscgate device
// seen NAME`): one row per node, the certificate class, the NAS and its port.

#include "web/pages.h"

#include <cstdio>

namespace lscgate::web {
namespace {

constexpr int kSessionsShown = 20;

// "0.08", "12.34": a session's duration in seconds, to the hundredth.
std::string seconds_text(std::int64_t ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(ms) / 1000.0);
    return buf;
}

TemplateObject session_row(const CapfSessionRecord& s) {
    return TemplateObject{{"at", display_time(s.at)},
                          {"operation", s.operation},
                          {"auth", s.auth_mode},
                          {"result", s.result},
                          {"class", s.cause_class},
                          {"cause", s.cause},
                          {"peer", s.peer},
                          {"serial", s.serial},
                          {"seconds", seconds_text(s.duration_ms)}};
}

TemplateObject sighting_row(const SeenRecord& r) {
    const SeenEvent& e = r.last;
    return TemplateObject{{"at", display_time(e.at)},
                          {"node", e.node},
                          {"class", e.cls},
                          {"nas", e.nas},
                          {"port", e.nas_port_id},
                          {"station", e.calling_station_id},
                          {"reason", e.reason},
                          {"count", std::to_string(r.count)}};
}

}  // namespace

Status add_device_history(WebApp& app, const std::string& device, TemplateData& data) {
    CapfSessionFilter filter;
    filter.device = device;
    filter.limit = kSessionsShown;
    TemplateList sessions;
    auto read = app.with_store([&](Store& store) {
        return store.each_capf_session(filter, [&](const CapfSessionRecord& s) -> Status {
            sessions.push_back(session_row(s));
            return {};
        });
    });
    if (!read) return read.error();
    data.set("sessions", sessions);
    data.set("has_sessions", !sessions.empty());

    const LastSeenSource& source = app.options().last_seen;
    TemplateList sightings;
    std::string why;
    if (!source.available()) {
        why = source.unavailable_reason();
    } else if (auto rows = device_sightings(source, device); !rows) {
        app.log("web: last-seen of " + device + ": " + rows.message());
        why = "last-seen could not be read: see the server log";
    } else {
        for (const auto& r : *rows) sightings.push_back(sighting_row(r));
    }
    data.set("sightings", sightings);
    data.set("has_sightings", !sightings.empty());
    data.set("sightings_known", why.empty());
    data.set("sightings_reason", why);
    return {};
}

}  // namespace lscgate::web
