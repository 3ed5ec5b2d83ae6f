#pragma once

// CSV output for the reports (`lscgate report … --csv`, issue 10 item 5): every
// field is quoted by libcsv (csv_write: the field in double quotes, each quote
// doubled, RFC 4180 §2), so a comma, quote or line break inside a value (a
// description, a cause, a last-seen NAS-Port-Id) never breaks a record. Records
// end with CRLF, as RFC 4180 and Excel have them.

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace lscgate {

/// `field` as one quoted CSV field, e.g. `a"b` → `"a""b"`, "" → `""`.
std::string csv_field(std::string_view field);

/// Writes CSV records to a stream (not owned; it must outlive the writer).
class CsvWriter {
public:
    explicit CsvWriter(std::ostream& out) : out_(out) {}
    /// One record: the fields quoted, separated by commas, ended by CRLF.
    void row(const std::vector<std::string>& fields);
    /// Flushes the stream (after the last row).
    void finish() { out_.flush(); }

private:
    std::ostream& out_;
};

}  // namespace lscgate
