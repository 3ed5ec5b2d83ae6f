// The device list (issue 14): search by name, model and LSC status, one page
// at a time by keyset on the name (Store::each_device_page: a bound LIMIT on the
// name index, never an OFFSET), so the 2 000th page costs what the first does.

#include "web/pages.h"

namespace lscgate::web {
namespace {

constexpr int kPageRows = 50;
constexpr std::int64_t kExpiringWindow = 30 * 86400;

struct Filters {
    std::string q, model, lsc;
};

// The query string of a link to another page of the same search.
std::string link(const Filters& f, const std::string& key, const std::string& name) {
    return "/devices?q=" + url_encode(f.q) + "&model=" + url_encode(f.model) + "&lsc=" + url_encode(f.lsc) + "&" + key +
           "=" + url_encode(name);
}

TemplateObject device_row(const DeviceListRow& r) {
    std::string op;
    if (r.open_kind) op = std::string(to_string(*r.open_kind)) + " " + std::string(to_string(*r.open_state));
    return TemplateObject{{"name", r.device.name},
                          {"href", "/device?name=" + url_encode(r.device.name)},
                          {"model", r.device.model},
                          {"description", r.device.description},
                          {"lsc", std::string(to_string(r.lsc))},
                          {"lsc_not_after", r.lsc_not_after ? display_time(*r.lsc_not_after) : std::string()},
                          {"operation", op}};
}

// The status filter's choices, the chosen one selected.
TemplateList status_choices(const std::string& chosen) {
    TemplateList out;
    for (const char* value : {"", "active", "expiring", "unconfirmed", "revoked", "none"})
        out.push_back(TemplateObject{{"value", std::string(value)},
                                     {"label", *value ? std::string(value) : std::string("any")},
                                     {"selected", chosen == value}});
    return out;
}

}  // namespace

Result<PageBody> devices_page(WebApp& app, const PageContext& ctx) {
    const WebRequest& req = ctx.request;
    Filters f{req.param("q"), req.param("model"), req.param("lsc")};
    DevicePageQuery query;
    query.name_contains = f.q;
    query.model_contains = f.model;
    if (f.lsc == "expiring") {
        query.lsc = LscStatus::Active;
        query.expiring_before = ctx.now + kExpiringWindow;
    } else if (!f.lsc.empty()) {
        auto status = parse_lsc_status(f.lsc);
        if (!status) return status.error();
        query.lsc = *status;
    }
    query.after = req.param("after");
    query.before = req.param("before");
    // One row more than shown tells whether another page follows.
    query.limit = kPageRows + 1;
    std::vector<DeviceListRow> rows;
    auto walked = app.with_store([&](Store& store) { return store.each_device_page(query, collect_into(rows)); });
    if (!walked) return walked.error();
    const bool backwards = !query.before.empty();
    const bool more = rows.size() > static_cast<std::size_t>(kPageRows);
    // Backwards the extra row is the earliest name (rows are in name order).
    if (more) rows.erase(backwards ? rows.begin() : rows.end() - 1);
    const bool has_prev = backwards ? more : !query.after.empty();
    const bool has_next = backwards ? true : more;
    TemplateList items;
    for (const auto& r : rows) items.push_back(device_row(r));
    TemplateData data;
    data.set("devices", items);
    data.set("empty", rows.empty());
    data.set("q", f.q);
    data.set("model", f.model);
    data.set("statuses", status_choices(f.lsc));
    data.set("has_prev", has_prev && !rows.empty());
    data.set("has_next", has_next && !rows.empty());
    data.set("prev_href", rows.empty() ? std::string() : link(f, "before", rows.front().device.name));
    data.set("next_href", rows.empty() ? std::string() : link(f, "after", rows.back().device.name));
    data.set("shown", std::to_string(rows.size()));
    return PageBody{"Devices", "devices", data, 200};
}

}  // namespace lscgate::web
