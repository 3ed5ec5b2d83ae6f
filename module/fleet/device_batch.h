#pragma once

// A batch of devices for one bulk command (`device add`, `op install|fetch|
// delete|cancel`): from a file (device_input.h), from names on the command line,
// or from a query (device_query.h). Names are normalised as CUCM stores them
// (registry/device_name.h: "sep0011…" is SEP0011…), each acted on once and a
// repeat said so on stderr: a second generated authentication string would
// silently replace the first, a second add would fail.

#include "fleet/device_input.h"
#include "pki/result.h"
#include "registry/store.h"

#include <cstddef>
#include <string>
#include <vector>

namespace lscgate {

/// One device of a batch. `line` is 0 when it did not come from a file.
struct BatchDevice {
    std::string name;  ///< normalised
    std::size_t line = 0;
    std::string model;
    std::string description;
};

/// A name that appeared more than once (after normalisation) and the lines it was on.
struct DuplicateDevice {
    std::string name;
    std::vector<std::size_t> lines;  ///< every line, first one first (empty for command-line names)
};

struct DeviceBatch {
    std::string source;  ///< "FILE", "standard input" or "" (command line): prefixes messages
    std::vector<BatchDevice> devices;  ///< each name once, first occurrence kept, in input order
    std::vector<DuplicateDevice> duplicates;

    /// "devices.csv:537: " for a device of a file, "" otherwise: the start of a
    /// message about `d`.
    std::string where(const BatchDevice& d) const;
    /// One note per duplicate, e.g. "SEP0011… is listed on lines 3 and 17; acting on it once".
    std::vector<std::string> duplicate_notes() const;
};

/// Checks and normalises every row of `input` (read from `source`). Refuses the
/// whole batch (kind Input), naming the file and line, at the first invalid name;
/// refuses an input without any device row: "SOURCE: no devices in input" — an
/// empty selection never means "every device".
Result<DeviceBatch> batch_from_input(const DeviceInput& input, const std::string& source);

/// The same rules for names given on the command line (no lines).
Result<DeviceBatch> batch_from_names(const std::vector<std::string>& names);

/// parse_device_input of `text` read from `source`, its errors placed there: "line
/// 537: …" becomes "SOURCE:537: …", as compilers name a place in a file; others
/// "SOURCE: …".
Result<DeviceInput> parse_device_input_in(std::string_view text, const std::string& source);

/// A whole file as a batch (`--from FILE` and the web's bulk page):
/// parse_device_input_in, then batch_from_input.
Result<DeviceBatch> batch_from_text(std::string_view text, const std::string& source);

/// Every invalid device name of `input` (read from `source`), as
/// "SOURCE:LINE: why", at most `limit` of them: a preview lists each bad line at
/// once where batch_from_input stops at the first. Empty when every name is valid.
std::vector<std::string> invalid_name_lines(const DeviceInput& input, const std::string& source, std::size_t limit);

/// What the registry must say of every device of a batch.
enum class Registered {
    MustExist,     ///< scheduling, cancelling, reporting: each device is registered
    MustNotExist,  ///< `device add`: none is registered yet
};

/// The devices of `batch` the registry contradicts (`rule`), as
/// "SOURCE:LINE: no such device: NAME (…)" / "…: device NAME already exists",
/// at most `limit`, in batch order. Errors: the registry's.
Result<std::vector<std::string>> registration_problems(Store& store, const DeviceBatch& batch, Registered rule,
                                                       std::size_t limit);

/// The first of registration_problems as an error (kind Input), or success.
Status check_registered(Store& store, const DeviceBatch& batch, Registered rule);

}  // namespace lscgate
