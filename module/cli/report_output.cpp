#include "cli/report_output.h"

#include "pki/printable.h"

#include <utility>

namespace lscgate::cli {

ReportOutput::ReportOutput(ReportFormat format, std::vector<ReportColumn> columns, std::ostream& out)
    : format_(format), columns_(std::move(columns)), out_(out), csv_(out), json_(out) {
    if (format_ == ReportFormat::Csv) {
        std::vector<std::string> header;
        for (const auto& c : columns_) header.push_back(c.key);
        csv_.row(header);
    } else if (format_ == ReportFormat::Text) {
        nlohmann::json headings = nlohmann::json::object();
        for (const auto& c : columns_) headings[c.key] = c.heading;
        row(headings);
    }
}

std::string ReportOutput::cell(const nlohmann::json& values, const std::string& key, const char* absent) const {
    const auto it = values.find(key);
    if (it == values.end() || it->is_null()) return absent;
    if (it->is_boolean()) return it->get<bool>() ? "yes" : "no";
    if (it->is_string()) return it->get<std::string>();
    return it->dump();
}

void ReportOutput::row(const nlohmann::json& values) {
    switch (format_) {
        case ReportFormat::Json: json_.add(values); return;
        case ReportFormat::Csv: {
            std::vector<std::string> fields;
            for (const auto& c : columns_) fields.push_back(cell(values, c.key, ""));
            csv_.row(fields);
            return;
        }
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
        const std::string text = escape_nonprintable(cell(values, c.key, "-"));
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
