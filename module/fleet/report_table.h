#pragma once

// The columns and rows of the fleet reports (issue 10 item 5), once for every
// output: `lscgate report lsc|stale|foreign` prints them as a text table, CSV
// or JSON (cli/report_output.h), and the web's reports page shows them and
// offers the same CSV for download. A row is a JSON object keyed by column
// (absent values null), so every format holds the same columns and values.

#include "fleet/lsc_report.h"
#include "fleet/stale_lsc.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace lscgate {

/// A report column: its key (JSON key and CSV header), its heading and width in
/// the CLI's text table (width 0: not in the text table, only in CSV, JSON and
/// the web page).
struct ReportColumn {
    std::string key;
    std::string heading;
    int width = 0;
};

/// `report lsc`: device, model, serial, issuer, not_after, days_left,
/// seen_class, seen_nas, seen_at, mic_only, cause_class, operation_id, status.
std::vector<ReportColumn> lsc_report_columns();
/// One `report lsc` row: times as UTC text ("2026-11-28T18:42:13Z"), status in
/// CUCM's words (LscReportRow::status_text), empty texts as null.
nlohmann::json lsc_report_json(const LscReportRow& r);

/// `report stale`: device, serial, issued_at, age_days, sha256, superseded_by.
std::vector<ReportColumn> stale_report_columns();
nlohmann::json stale_report_json(const StaleLsc& s);

/// `report foreign`: device, registered, model, seen_at, seen_nas, seen_node, reason, issuer.
std::vector<ReportColumn> foreign_report_columns();
nlohmann::json foreign_report_json(const ForeignDevice& f);

/// The text of `values[key]`: `absent` for a missing key or null, "yes"/"no"
/// for a boolean, a string as it is, a number as JSON writes it.
std::string report_cell(const nlohmann::json& values, const std::string& key, const char* absent);

/// The CSV header record: the columns' keys.
std::vector<std::string> report_csv_header(const std::vector<ReportColumn>& columns);
/// One CSV record: report_cell of each column, "" when absent.
std::vector<std::string> report_csv_fields(const std::vector<ReportColumn>& columns, const nlohmann::json& values);

}  // namespace lscgate
