#include "cli/report_output.h"

#include "pki/printable.h"

#include <utility>

namespace lscgate::cli {

ReportOutput::ReportOutput(ReportFormat format, std::vector<ReportColumn> columns, std::ostream& out)
    : format_(format), columns_(std::move(columns)), out_(out), csv_(out), json_(out) {
    if (format_ == ReportFormat::Csv) {
        csv_.row(report_csv_header(columns_));
    } else if (format_ == ReportFormat::Text) {
        nlohmann::json headings = nlohmann::json::object();
        for (const auto& c : columns_) headings[c.key] = c.heading;
        row(headings);
    }
}

void ReportOutput::row(const nlohmann::json& values) {
    switch (format_) {
        case ReportFormat::Json: json_.add(values); return;
        case ReportFormat::Csv: csv_.row(report_csv_fields(columns_, values)); return;
        case ReportFormat::Text: break;
    }
    std::string line;
    bool first = true;
    std::size_t pending_pad = 0;  // the previous cell's padding, written only if another cell follows
    for (const auto& c : columns_) {
        if (c.width <= 0) continue;
        if (!first) line.append(pending_pad + 1, ' ');
        first = false;
        // Texts from the registry and last-seen are printable already; escaping again costs nothing.
        const std::string text = escape_nonprintable(report_cell(values, c.key, "-"));
        line += text;
        const auto width = static_cast<std::size_t>(c.width);
        pending_pad = text.size() < width ? width - text.size() : 0;
    }
    out_ << line << "\n";
}

void ReportOutput::finish() {
    if (format_ == ReportFormat::Json) json_.finish();
    else out_.flush();
}

Result<ReportFormat> report_format(bool json, bool csv) {
    if (json && csv) return fail(ErrorKind::Input, "give --json or --csv, not both");
    if (json) return ReportFormat::Json;
    if (csv) return ReportFormat::Csv;
    return ReportFormat::Text;
}

}  // namespace lscgate::cli
