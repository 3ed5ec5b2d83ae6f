// The reports page (issue 14): `lscgate report lsc|stale|foreign` in a browser,
// filtered as `--where` filters (name=, model=, lsc=, seen=, op=), its first
// rows shown and the whole report offered as the CSV `lscgate report … --csv`
// writes: the same rows (fleet/lsc_report.h, fleet/stale_lsc.h), the same
// columns and cells (fleet/report_table.h), quoted by libcsv (fleet/csv_writer.h).

#include "fleet/csv_writer.h"
#include "fleet/device_query.h"
#include "fleet/report_table.h"
#include "web/pages.h"

#include <functional>
#include <sstream>
#include <unordered_set>

namespace lscgate::web {
namespace {

constexpr std::size_t kRowsShown = 500;

struct ReportFilters {
    std::string report = "lsc";
    std::string name, model, lsc, seen, op;

    std::vector<std::string> terms() const {
        std::vector<std::string> out;
        if (!name.empty()) out.push_back("name=" + name);
        if (!model.empty()) out.push_back("model=" + model);
        if (!lsc.empty()) out.push_back("lsc=" + lsc);
        if (!seen.empty()) out.push_back("seen=" + seen);
        if (!op.empty()) out.push_back("op=" + op);
        return out;
    }
    std::string query_string() const {
        return "report=" + url_encode(report) + "&name=" + url_encode(name) + "&model=" + url_encode(model) +
               "&lsc=" + url_encode(lsc) + "&seen=" + url_encode(seen) + "&op=" + url_encode(op);
    }
};

Result<ReportFilters> filters_of(const WebRequest& req) {
    ReportFilters f;
    if (!req.param("report").empty()) f.report = req.param("report");
    if (f.report != "lsc" && f.report != "stale" && f.report != "foreign")
        return fail(ErrorKind::Input, "choose the report lsc, stale or foreign");
    f.name = req.param("name");
    f.model = req.param("model");
    f.lsc = req.param("lsc");
    f.seen = req.param("seen");
    f.op = req.param("op");
    return f;
}

std::vector<ReportColumn> columns_of(const std::string& report) {
    if (report == "stale") return stale_report_columns();
    if (report == "foreign") return foreign_report_columns();
    return lsc_report_columns();
}

using RowSink = std::function<Status(const nlohmann::json&)>;

// What a report run tells besides its rows.
struct ReportNotes {
    std::string empty_reason;  ///< why no row: "no device matches lsc=revoked"
    std::string seen_note;     ///< why the last-seen columns are empty
};

// The report `f` at `now`, each row to `sink` (the order `lscgate report` prints).
Result<ReportNotes> run_report(WebApp& app, const ReportFilters& f, UnixTime now, const RowSink& sink) {
    auto query = parse_device_query(f.terms());
    if (!query) return query.error();
    ReportNotes notes;
    const LastSeenSource& source = app.options().last_seen;
    // The index stays in its Result (not moved into an optional: GCC 12 at -O2
    // then warns free-nonheap-object about the moved-from Result, a false positive).
    Result<LastSeenIndex> loaded = source.available() ? read_last_seen_index(source) : LastSeenIndex{};
    if (!loaded) return loaded.error();
    const LastSeenIndex* seen = source.available() ? &*loaded : nullptr;
    if (!seen) {
        if (query->needs_last_seen() || f.report == "foreign")
            return fail(ErrorKind::Config, source.unavailable_reason());
        notes.seen_note = "The last-seen columns are empty: " + source.unavailable_reason() + ".";
    }
    auto walked = app.with_store([&](Store& store) -> Status {
        auto devices = select_devices(store, *query, now, seen);
        if (!devices) {
            if (devices.kind() != ErrorKind::Input) return devices.error();
            notes.empty_reason = devices.message();  // nothing matches: an empty report, not an error
            return {};
        }
        if (f.report == "lsc")
            return each_lsc_report_row(store, *devices, seen, now,
                                       [&](const LscReportRow& r) { return sink(lsc_report_json(r)); });
        std::unordered_set<std::string> only;
        for (const auto& d : *devices) only.insert(d.name);
        const auto* filter = query->terms.empty() ? nullptr : &only;  // no filter: every device, unregistered ones too
        if (f.report == "stale") {
            auto stale = stale_lscs(store, filter, now);
            if (!stale) return stale.error();
            for (const auto& s : *stale)
                if (auto st = sink(stale_report_json(s)); !st) return st;
            return {};
        }
        auto foreign = foreign_devices(store, *seen, filter);
        if (!foreign) return foreign.error();
        for (const auto& d : *foreign)
            if (auto st = sink(foreign_report_json(d)); !st) return st;
        return {};
    });
    if (!walked) return walked.error();
    return notes;
}

TemplateList choice_list(std::initializer_list<std::pair<const char*, const char*>> values, const std::string& chosen) {
    TemplateList out;
    for (const auto& [value, label] : values)
        out.push_back(TemplateObject{{"value", std::string(value)}, {"label", std::string(label)}, {"selected", chosen == value}});
    return out;
}

void add_filter_fields(TemplateData& data, const ReportFilters& f) {
    data.set("reports", choice_list({{"lsc", "LSC status per device (report lsc)"},
                                     {"stale", "Stale LSCs: issued, never confirmed (report stale)"},
                                     {"foreign", "Foreign LSCs seen at RADIUS (report foreign)"}},
                                    f.report));
    data.set("name", f.name);
    data.set("model", f.model);
    data.set("lscs", choice_list({{"", "any"}, {"active", "active"}, {"expiring:30d", "expiring within 30 days"},
                                  {"unconfirmed", "unconfirmed"}, {"revoked", "revoked"}, {"none", "none"}},
                                 f.lsc));
    data.set("seens", choice_list({{"", "any"}, {"mic", "with its MIC"}, {"lsc-valid", "with a valid LSC"},
                                   {"lsc-foreign", "with a foreign LSC"}, {"never", "never"}},
                                  f.seen));
    data.set("ops", choice_list({{"", "any"}, {"pending", "open"}, {"none", "none open"}}, f.op));
}

}  // namespace

Result<PageBody> reports_page(WebApp& app, const PageContext& ctx) {
    auto f = filters_of(ctx.request);
    if (!f) return f.error();
    const auto columns = columns_of(f->report);
    TemplateList rows;
    std::size_t total = 0;
    auto notes = run_report(app, *f, ctx.now, [&](const nlohmann::json& values) -> Status {
        if (++total > kRowsShown) return {};
        TemplateList cells;
        for (const auto& c : columns) {
            const std::string text = report_cell(values, c.key, "");
            const bool link = c.key == "device" && !text.empty();
            cells.push_back(TemplateObject{{"text", text}, {"link", link}, {"href", "/device?name=" + url_encode(text)}});
        }
        rows.push_back(TemplateObject{{"cells", cells}});
        return {};
    });
    if (!notes) return notes.error();
    TemplateList headings;
    for (const auto& c : columns) headings.push_back(TemplateObject{{"key", c.key}});
    TemplateData data;
    add_filter_fields(data, *f);
    data.set("headings", headings);
    data.set("rows", rows);
    data.set("total", std::to_string(total));
    data.set("more", total > kRowsShown);
    data.set("shown", std::to_string(std::min(total, kRowsShown)));
    data.set("empty", total == 0);
    data.set("empty_reason", notes->empty_reason.empty() ? std::string("No row.") : notes->empty_reason);
    data.set("has_seen_note", !notes->seen_note.empty());
    data.set("seen_note", notes->seen_note);
    data.set("csv_href", "/reports.csv?" + f->query_string());
    data.set("report", f->report);
    return PageBody{"Reports", "reports", data, 200};
}

Result<WebResponse> reports_csv(WebApp& app, const PageContext& ctx) {
    auto f = filters_of(ctx.request);
    if (!f) return f.error();
    const auto columns = columns_of(f->report);
    std::ostringstream out;
    CsvWriter csv(out);
    csv.row(report_csv_header(columns));
    auto notes = run_report(app, *f, ctx.now, [&](const nlohmann::json& values) -> Status {
        csv.row(report_csv_fields(columns, values));
        return {};
    });
    if (!notes) return notes.error();
    csv.finish();
    WebResponse r;
    r.content_type = "text/csv; charset=utf-8";
    r.body = out.str();
    r.download_name = "lscgate-report-" + f->report + ".csv";
    return r;
}

}  // namespace lscgate::web
