#include "fleet/csv_writer.h"

#include <csv.h>

namespace lscgate {

std::string csv_field(std::string_view field) {
    // csv_write returns how many characters the quoted field needs (it writes at
    // most dest_size of them), so one call sizes the buffer and the second fills it.
    // data() of an empty view may be null, which csv_write takes for "no field".
    static constexpr char kEmpty[] = "";
    const void* src = field.empty() ? static_cast<const void*>(kEmpty) : static_cast<const void*>(field.data());
    const std::size_t need = csv_write(nullptr, 0, src, field.size());
    std::string out(need, '\0');
    csv_write(out.data(), out.size(), src, field.size());
    return out;
}

void CsvWriter::row(const std::vector<std::string>& fields) {
    std::string line;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) line.push_back(',');
        line += csv_field(fields[i]);
    }
    line += "\r\n";
    out_ << line;
}

}  // namespace lscgate
