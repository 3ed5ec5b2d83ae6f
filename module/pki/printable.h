#pragma once

// Outside text (a device name typed by an administrator, DEVICE_NAME sent by a
// phone, a RADIUS User-Name) is echoed in error messages and log lines. Written
// raw, a control character would forge a second log line (\n), rewrite the
// terminal (ESC, C1 CSI 0x9B) or hide text (\r); so every such echo goes
// through one of these two functions.

#include <string>
#include <string_view>

namespace lscgate {

/// `text` with every byte outside printable ASCII 0x20-0x7E written as an
/// escape: \n, \r, \t by name, others as \xHH (two upper-case hex digits), and
/// a backslash doubled, so the result is one printable line from which the
/// original bytes can be read back. Printable text is returned unchanged
/// (apart from doubled backslashes).
std::string escape_nonprintable(std::string_view text);

/// `"` + escape_nonprintable(text) with `"` also escaped + `"`: a value for a
/// key="value" field of a log line.
std::string quote_for_log(std::string_view text);

}  // namespace lscgate
