#include "fleet/report_table.h"

#include "pki/certificate.h"

namespace lscgate {
namespace {

constexpr std::int64_t kDay = 86400;

nlohmann::json text_or_null(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }
nlohmann::json time_or_null(const std::optional<UnixTime>& t) {
    return t ? nlohmann::json(format_utc(*t)) : nlohmann::json(nullptr);
}

}  // namespace

std::vector<ReportColumn> lsc_report_columns() {
    return {{"device", "DEVICE", 16},        {"model", "MODEL", 10},         {"serial", "SERIAL", 32},
            {"issuer", "ISSUER", 0},         {"not_after", "NOT AFTER", 20}, {"days_left", "DAYS", 5},
            {"seen_class", "SEEN", 16},      {"seen_nas", "NAS", 15},        {"seen_at", "SEEN AT", 20},
            {"mic_only", "MIC-ONLY", 8},     {"cause_class", "CAUSE", 0},    {"operation_id", "OP", 0},
            {"status", "STATUS", 1}};
}

nlohmann::json lsc_report_json(const LscReportRow& r) {
    const SeenEvent* seen = r.last_seen ? &*r.last_seen : nullptr;
    return {{"device", r.device},
            {"model", text_or_null(r.model)},
            {"status", r.status_text()},
            {"cause_class", text_or_null(r.cause_class)},
            {"operation_id", r.operation_id ? nlohmann::json(*r.operation_id) : nlohmann::json(nullptr)},
            {"serial", text_or_null(r.serial)},
            {"issuer", text_or_null(r.issuer)},
            {"not_after", time_or_null(r.not_after)},
            {"days_left", r.days_left ? nlohmann::json(*r.days_left) : nlohmann::json(nullptr)},
            {"seen_class", seen ? text_or_null(seen->cls) : nlohmann::json(nullptr)},
            {"seen_nas", seen ? text_or_null(seen->nas) : nlohmann::json(nullptr)},
            {"seen_at", seen ? time_or_null(seen->at) : nlohmann::json(nullptr)},
            {"mic_only", r.mic_only}};
}

std::vector<ReportColumn> stale_report_columns() {
    return {{"device", "DEVICE", 16},     {"serial", "SERIAL", 32},   {"issued_at", "ISSUED", 20},
            {"age_days", "AGE(D)", 6},    {"sha256", "SHA-256", 0},   {"superseded_by", "SUPERSEDED BY", 1}};
}

nlohmann::json stale_report_json(const StaleLsc& s) {
    return {{"device", s.device},
            {"serial", s.serial},
            {"sha256", s.sha256},
            {"issued_at", format_utc(s.issued_at)},
            {"age_days", s.age_seconds / kDay},
            {"superseded_by", s.superseded_by ? nlohmann::json(*s.superseded_by) : nlohmann::json(nullptr)}};
}

std::vector<ReportColumn> foreign_report_columns() {
    return {{"device", "DEVICE", 16}, {"registered", "REG", 3},   {"model", "MODEL", 10},
            {"seen_at", "SEEN AT", 20}, {"seen_nas", "NAS", 15}, {"seen_node", "NODE", 12},
            {"reason", "REASON", 0},    {"issuer", "ISSUER", 1}};
}

nlohmann::json foreign_report_json(const ForeignDevice& f) {
    return {{"device", f.device},
            {"registered", f.registered},
            {"model", text_or_null(f.model)},
            {"issuer", text_or_null(f.issuer)},
            {"seen_at", format_utc(f.seen.at)},
            {"seen_nas", text_or_null(f.seen.nas)},
            {"seen_node", text_or_null(f.seen.node)},
            {"reason", text_or_null(f.seen.reason)}};
}

std::string report_cell(const nlohmann::json& values, const std::string& key, const char* absent) {
    const auto it = values.find(key);
    if (it == values.end() || it->is_null()) return absent;
    if (it->is_boolean()) return it->get<bool>() ? "yes" : "no";
    if (it->is_string()) return it->get<std::string>();
    return it->dump();
}

std::vector<std::string> report_csv_header(const std::vector<ReportColumn>& columns) {
    std::vector<std::string> out;
    out.reserve(columns.size());
    for (const auto& c : columns) out.push_back(c.key);
    return out;
}

std::vector<std::string> report_csv_fields(const std::vector<ReportColumn>& columns, const nlohmann::json& values) {
    std::vector<std::string> out;
    out.reserve(columns.size());
    for (const auto& c : columns) out.push_back(report_cell(values, c.key, ""));
    return out;
}

}  // namespace lscgate
