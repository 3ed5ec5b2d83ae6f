#pragma once

// One output for the reports (`lscgate report …`, `cert purge-stale`): rows
// given as JSON objects are printed as a text table (default), as CSV (--csv,
// quoted by libcsv: fleet/csv_writer.h) or as a JSON array (--json, streamed:
// cli/json_array_writer.h), so every format holds the same columns and values.

#include "cli/json_array_writer.h"
#include "fleet/csv_writer.h"
#include "fleet/report_table.h"
#include "pki/result.h"

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace lscgate::cli {

enum class ReportFormat { Text, Csv, Json };

using lscgate::ReportColumn;  // fleet/report_table.h: the columns every output shares

class ReportOutput {
public:
    /// Writes the CSV header or the text heading at once.
    ReportOutput(ReportFormat format, std::vector<ReportColumn> columns, std::ostream& out);
    ReportOutput(const ReportOutput&) = delete;
    ReportOutput& operator=(const ReportOutput&) = delete;

    /// One row: `values[key]` for each column. A missing key or null prints as
    /// "" (CSV), "-" (text) or null (JSON); a boolean as yes/no in text and CSV.
    /// JSON gets the object as given (keys beyond the columns included).
    void row(const nlohmann::json& values);
    /// Ends the output (closes the JSON array) and flushes.
    void finish();

private:
    ReportFormat format_;
    std::vector<ReportColumn> columns_;
    std::ostream& out_;
    CsvWriter csv_;
    JsonArrayWriter json_;
};

/// The format --json / --csv ask for; both at once is an error (kind Input).
Result<ReportFormat> report_format(bool json, bool csv);

}  // namespace lscgate::cli
