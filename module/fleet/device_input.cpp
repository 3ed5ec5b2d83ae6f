#include "fleet/device_input.h"

#include "pki/printable.h"

#include <csv.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <istream>
#include <iterator>
#include <optional>
#include <system_error>
#include <filesystem>

namespace lscgate {
namespace {

// libcsv grows its field buffer through this: refusing beyond the bound makes
// csv_parse stop with CSV_ENOMEM instead of buffering a runaway quoted field.
void* bounded_realloc(void* p, std::size_t n) {
    if (n > kMaxDeviceInputField + 1) return nullptr;
    return std::realloc(p, n);
}

// A libcsv parser: csv_init on construction (check ok()), csv_free on destruction.
class CsvParser {
public:
    explicit CsvParser(unsigned char options) : ok_(csv_init(&p_, options) == 0) {}
    ~CsvParser() {
        if (ok_) csv_free(&p_);
    }
    CsvParser(const CsvParser&) = delete;
    CsvParser& operator=(const CsvParser&) = delete;
    bool ok() const { return ok_; }
    csv_parser* get() { return &p_; }

private:
    csv_parser p_{};
    bool ok_;
};

std::string lower_trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
}

// Length of the UTF-8 sequence starting at s[i] (RFC 3629 §4), or 0 if invalid.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    if (c < 0x80) return 1;
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;   // no overlong forms
        if (c == 0xED) hi = 0x9F;   // no UTF-16 surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;   // nothing above U+10FFFF
    } else
        return 0;
    if (i + n > s.size()) return 0;
    if (b(i + 1) < lo || b(i + 1) > hi) return 0;
    for (std::size_t k = 2; k < n; ++k)
        if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
    return n;
}

// Refuses a NUL byte or bytes that are not UTF-8, naming the first such line:
// a description that is not UTF-8 could not be printed as JSON later.
Status check_encoding(std::string_view text) {
    std::size_t line = 1;
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] == '\0') return fail(ErrorKind::Input, "line " + std::to_string(line) + ": a NUL byte: not a text file");
        if (text[i] == '\n') ++line;
        const std::size_t n = utf8_sequence(text, i);
        if (n == 0)
            return fail(ErrorKind::Input, "line " + std::to_string(line) +
                                              ": not UTF-8 text; save the file as UTF-8 (BAT exports are UTF-8)");
        i += n;
    }
    return {};
}

// Collects libcsv's fields into rows and turns each finished row into an
// InputRow (or an error). Called back from C: nothing may throw out of it.
class RowCollector {
public:
    std::size_t line = 1;  // the line being fed to the parser
    std::optional<Error> error;
    DeviceInput out;

    void field(const void* data, std::size_t len) {
        if (error) return;
        try {
            if (fields_.size() >= kMaxDeviceInputFieldsPerRow) {
                error = at(line, "more than " + std::to_string(kMaxDeviceInputFieldsPerRow) +
                                     " fields in one row: not a device list or a BAT export");
                return;
            }
            fields_.emplace_back(data != nullptr ? static_cast<const char*>(data) : "", data != nullptr ? len : 0);
            field_lines_.push_back(line);
        } catch (const std::exception& e) {
            error = fail(ErrorKind::Internal, std::string("out of memory reading the input: ") + e.what());
        }
    }
    void row_end() {
        if (error) return;
        try {
            finish_row();
        } catch (const std::exception& e) {
            error = fail(ErrorKind::Internal, std::string("out of memory reading the input: ") + e.what());
        }
        fields_.clear();
        field_lines_.clear();
    }

private:
    void finish_row() {
        const bool blank = std::all_of(fields_.begin(), fields_.end(), [](const std::string& f) {
            return trimmed(f).empty();
        });
        if (blank) return;
        if (!decided_) {
            decided_ = true;
            if (read_header()) return;
            if (error) return;
        }
        if (out.format == InputFormat::BatCsv) csv_row();
        else list_row();
    }

    Error at(std::size_t l, const std::string& what) { return fail(ErrorKind::Input, "line " + std::to_string(l) + ": " + what); }

    // True when this row is a BAT header (then it is no device row).
    bool read_header() {
        std::optional<std::size_t> name, model_type, model, description;
        for (std::size_t i = 0; i < fields_.size(); ++i) {
            const std::string h = lower_trimmed(fields_[i]);
            std::optional<std::size_t>* slot = h == "device name"   ? &name
                                               : h == "device type" ? &model_type
                                               : h == "model"       ? &model
                                               : h == "description" ? &description
                                                                    : nullptr;
            if (slot == nullptr) continue;
            if (slot->has_value()) {
                error = at(field_lines_[i], "the header names the column '" + escape_nonprintable(trimmed(fields_[i])) +
                                                "' twice");
                return false;
            }
            *slot = i;
        }
        if (!name) return false;
        out.format = InputFormat::BatCsv;
        name_col_ = *name;
        model_col_ = model_type ? model_type : model;
        description_col_ = description;
        return true;
    }

    std::string column(const std::optional<std::size_t>& col) const {
        return col && *col < fields_.size() ? trimmed(fields_[*col]) : std::string();
    }

    void csv_row() {
        const std::size_t row_line = field_lines_.front();
        if (name_col_ >= fields_.size() || trimmed(fields_[name_col_]).empty()) {
            error = at(row_line, "no Device Name in this row (column " + std::to_string(name_col_ + 1) + ")");
            return;
        }
        out.rows.push_back(
            {field_lines_[name_col_], trimmed(fields_[name_col_]), column(model_col_), column(description_col_)});
    }

    void list_row() {
        std::optional<std::size_t> value;
        for (std::size_t i = 0; i < fields_.size(); ++i) {
            if (trimmed(fields_[i]).empty()) continue;  // "SEP…," from a spreadsheet: the empty column is nothing
            if (value) {
                error = at(field_lines_[i], "more than one value on a line ('" + escape_nonprintable(trimmed(fields_[*value])) +
                                                "', '" + escape_nonprintable(trimmed(fields_[i])) +
                                                "'): a device list has one name per line; a CSV export needs a header "
                                                "with a 'Device Name' column");
                return;
            }
            value = i;
        }
        out.rows.push_back({field_lines_[*value], trimmed(fields_[*value]), "", ""});
    }

    std::vector<std::string> fields_;
    std::vector<std::size_t> field_lines_;
    bool decided_ = false;
    std::size_t name_col_ = 0;
    std::optional<std::size_t> model_col_;
    std::optional<std::size_t> description_col_;
};

extern "C" void on_field(void* data, std::size_t len, void* collector) {
    static_cast<RowCollector*>(collector)->field(data, len);
}
extern "C" void on_row(int, void* collector) { static_cast<RowCollector*>(collector)->row_end(); }

Error parse_error(csv_parser* p, std::size_t line) {
    const int code = csv_error(p);
    if (code == CSV_ENOMEM)
        return fail(ErrorKind::Input, "line " + std::to_string(line) + ": a field longer than " +
                                          std::to_string(kMaxDeviceInputField / 1024) + " KiB");
    return fail(ErrorKind::Input, "line " + std::to_string(line) +
                                      ": malformed CSV quoting (RFC 4180: a field holding a quote, comma or line "
                                      "break is enclosed in quotes, and a quote inside it is doubled)");
}

}  // namespace

Result<DeviceInput> parse_device_input(std::string_view text) {
    if (text.size() >= 2 && ((text[0] == '\xFF' && text[1] == '\xFE') || (text[0] == '\xFE' && text[1] == '\xFF')))
        return fail(ErrorKind::Input, "line 1: a UTF-16 file; save it as UTF-8 (CSV UTF-8)");
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // the UTF-8 byte-order mark Excel writes
    if (auto s = check_encoding(text); !s) return s.error();

    CsvParser parser(CSV_STRICT | CSV_STRICT_FINI);
    if (!parser.ok()) return fail("libcsv: cannot initialise the parser");
    csv_set_realloc_func(parser.get(), bounded_realloc);
    RowCollector rows;
    // Fed one line at a time, so every field is known to end on `rows.line`.
    std::size_t pos = 0;
    while (pos < text.size() && !rows.error) {
        const std::size_t nl = text.find('\n', pos);
        const std::size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
        const std::string_view chunk = text.substr(pos, end - pos);
        if (csv_parse(parser.get(), chunk.data(), chunk.size(), on_field, on_row, &rows) != chunk.size())
            return parse_error(parser.get(), rows.line);
        if (nl != std::string_view::npos) ++rows.line;
        pos = end;
    }
    if (!rows.error && csv_fini(parser.get(), on_field, on_row, &rows) != 0) {
        // The last line that holds anything (a final line break starts no line).
        const std::size_t last = !text.empty() && text.back() == '\n' ? rows.line - 1 : rows.line;
        if (csv_error(parser.get()) == CSV_EPARSE)
            return fail(ErrorKind::Input, "line " + std::to_string(last) +
                                              ": the input ends inside a quoted field: a closing quote is missing");
        return parse_error(parser.get(), last);
    }
    if (rows.error) return *rows.error;
    return std::move(rows.out);
}

Result<std::string> read_device_input(const std::string& path, std::istream& in) {
    std::string text;
    auto read_from = [&](std::istream& s, const std::string& what) -> Status {
        char buf[1 << 16];
        while (s.read(buf, sizeof buf) || s.gcount() > 0) {
            text.append(buf, static_cast<std::size_t>(s.gcount()));
            if (text.size() > kMaxDeviceInputBytes)
                return fail(ErrorKind::Input, what + ": larger than " + std::to_string(kMaxDeviceInputBytes >> 20) + " MiB");
        }
        if (s.bad()) return fail(ErrorKind::Input, what + ": read error");
        return {};
    };
    if (path == "-") {
        if (auto s = read_from(in, "standard input"); !s) return s.error();
        return text;
    }
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return fail(ErrorKind::Input, path + ": is a directory");
    std::ifstream file(path, std::ios::binary);
    if (!file) return fail(ErrorKind::Input, path + ": cannot open (" + std::generic_category().message(errno) + ")");
    if (auto s = read_from(file, path); !s) return s.error();
    return text;
}

}  // namespace lscgate
