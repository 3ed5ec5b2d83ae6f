// The audit page (issue 14): the newest rows of the audit trail and the state
// of its hash chain, as `lscgate audit verify` reports it (Store::verify_audit:
// intact or the first edited, deleted, inserted or reordered row, and the head).

#include "web/pages.h"

namespace lscgate::web {
namespace {

int chosen_limit(const std::string& text) {
    for (int n : {50, 100, 500, 1000})
        if (text == std::to_string(n)) return n;
    return 100;
}

}  // namespace

Result<PageBody> audit_page(WebApp& app, const PageContext& ctx) {
    const int limit = chosen_limit(ctx.request.param("limit"));
    struct Read {
        AuditChainReport report;
        std::vector<AuditEvent> rows;
    };
    auto read = app.with_store([&](Store& store) -> Result<Read> {
        auto report = store.verify_audit();
        if (!report) return report.error();
        Read out{*report, {}};
        if (auto s = store.each_audit_event(limit, collect_into(out.rows)); !s) return s.error();
        return out;
    });
    if (!read) return read.error();
    TemplateList rows;
    for (const auto& e : read->rows)
        rows.push_back(TemplateObject{{"id", std::to_string(e.id)},
                                      {"at", display_time(e.at)},
                                      {"actor", e.actor},
                                      {"action", e.action},
                                      {"device", e.device},
                                      {"has_device", !e.device.empty()},  // kainjow: "" is truthy
                                      {"device_href", "/device?name=" + url_encode(e.device)},
                                      {"detail", e.detail}});
    TemplateList limits;
    for (int n : {50, 100, 500, 1000})
        limits.push_back(TemplateObject{{"value", std::to_string(n)}, {"selected", n == limit}});
    const AuditChainReport& r = read->report;
    TemplateData data;
    data.set("intact", r.intact());
    data.set("rows_checked", std::to_string(r.rows));
    data.set("head_id", std::to_string(r.head_id));
    data.set("head_hash", r.head_hash);
    data.set("broken_row", r.broken ? std::to_string(r.broken->row_number) : "");
    data.set("broken_id", r.broken ? std::to_string(r.broken->id) : "");
    data.set("broken_what", r.broken ? r.broken->what : "");
    data.set("events", rows);
    data.set("limits", limits);
    return PageBody{"Audit", "audit", data, 200};
}

}  // namespace lscgate::web
