#pragma once

// Device lists from files, as CUCM's Bulk Administration Tool (BAT) deals in
// them: a "custom file" of device names, one per line, or a phone export (CSV)
// whose header has a "Device Name" column — other columns used when present:
// "Description", and "Device Type" or "Model" as the model. Read with Debian's
// libcsv (RFC 4180 quoting, strict), UTF-8 with or without a byte-order mark,
// CRLF or LF line ends. Every row keeps the line its device name is on, so an
// error or a duplicate can be shown where the administrator can find it.

#include "pki/result.h"

#include <cstddef>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace lscgate {

/// One device row of the input, as written (not yet checked as a device name).
struct InputRow {
    std::size_t line = 0;     ///< 1-based line of the device name in the file
    std::string name;         ///< the name, spaces around it removed
    std::string model;        ///< "Device Type" / "Model" column, "" when absent
    std::string description;  ///< "Description" column, "" when absent
};

enum class InputFormat {
    NameList,  ///< one device name per line (BAT custom file)
    BatCsv,    ///< CSV with a header naming a "Device Name" column (BAT export)
};

struct DeviceInput {
    InputFormat format = InputFormat::NameList;
    std::vector<InputRow> rows;  ///< in file order; blank lines (and all-empty CSV rows) left out
};

/// Largest input read (a full BAT export of a large cluster is well below it).
inline constexpr std::size_t kMaxDeviceInputBytes = 256u * 1024 * 1024;
/// Longest single CSV field; longer ones are refused, never buffered without bound.
inline constexpr std::size_t kMaxDeviceInputField = 64u * 1024;
/// Most fields in one CSV row (a CUCM BAT phone export has a few hundred columns
/// with every line and speed dial). Bounds a row's memory: a 256 MiB input of
/// commas would otherwise be 256 Mi field objects (gigabytes) before any check.
inline constexpr std::size_t kMaxDeviceInputFieldsPerRow = 4096;

/// Parses a whole input. The format is decided by the first non-blank row: a
/// field reading "Device Name" (any case) makes it a CSV header, anything else
/// makes it the first name of a list. Errors (kind Input) start with "line N: "
/// where a line is at fault: malformed quoting (RFC 4180 §2), a quoted field left
/// open, a UTF-16 file, a NUL byte, bytes that are not UTF-8, a list line with
/// more than one value, a CSV row without its Device Name, a header naming a
/// column twice, a field longer than kMaxDeviceInputField, a row of more than
/// kMaxDeviceInputFieldsPerRow fields. An input without any
/// device row is not an error here (rows is empty): the caller decides.
Result<DeviceInput> parse_device_input(std::string_view text);

/// The bytes of `path`, or of `in` when `path` is "-", at most
/// kMaxDeviceInputBytes. Errors: unreadable or missing file, a directory, too large.
Result<std::string> read_device_input(const std::string& path, std::istream& in);

}  // namespace lscgate
