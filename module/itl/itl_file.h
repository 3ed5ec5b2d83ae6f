#pragma once

// An ITL/CTL file as parsed: every TLV kept with its byte offset, so `itl show`
// can print the file the way CUCM's `show itl` does and `itl verify` can cut the
// SIGNATURE TLV out of the signed bytes. Format notes: module/itl/FORMAT.md.

#include "pki/bytes.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lscgate::itl {

/// Largest file the parser accepts (real ITLs and CTLs are tens of KiB).
inline constexpr std::size_t kMaxFileBytes = 2u * 1024 * 1024;

/// Deepest header nesting a file may have: SIGNATUREALGOINFO's values sit at 2
/// (SIGNATUREINFO > SIGNATUREALGOINFO > value, FORMAT.md). A container at depth 2
/// would nest deeper than any ITL/CTL writer does: refused (FaultKind::TooDeep).
inline constexpr int kMaxDepth = 2;

/// One TLV as found in the file.
struct Field {
    std::size_t offset = 0;   ///< file offset of the tag byte
    std::uint8_t tag = 0;
    std::size_t length = 0;   ///< the length field; for a container, the bytes of its nested TLVs; 0 for PADDING
    Bytes value;              ///< empty for containers and PADDING
    bool container = false;   ///< header tags 3, 7, 9
    bool padding = false;     ///< header PADDING (tag 13): one byte, no length field
    int depth = 0;            ///< header nesting: 0 top level, 1 inside SIGNERID/SIGNATUREINFO, 2 inside SIGNATUREALGOINFO (at most kMaxDepth)

    /// Bytes this TLV occupies in the file (1 for PADDING, 3 for a container's own tag and length).
    std::size_t wire_size() const;
};

/// One record: a certificate (or a server without one) with its role.
struct Record {
    std::size_t offset = 0;   ///< file offset of its RECORDLENGTH tag
    std::size_t length = 0;   ///< RECORDLENGTH: the whole record, including that 5-byte TLV
    std::vector<Field> fields;  ///< in file order, RECORDLENGTH first

    /// The first field with `tag`, or nullptr.
    const Field* find(std::uint8_t tag) const;
    /// FUNCTION (tag 4) as a number; empty when the record has none.
    std::optional<std::uint16_t> function() const;
};

struct File {
    std::size_t size = 0;             ///< bytes in the file
    std::uint8_t version_major = 0;   ///< VERSION (tag 1), 1.2 for ITL/CTL
    std::uint8_t version_minor = 0;
    std::size_t header_length = 0;    ///< HEADERLENGTH (tag 2): offset of the first record
    std::vector<Field> header;        ///< every header TLV in file order, containers and PADDING included
    std::vector<Record> records;      ///< in file order

    /// The first header field with `tag`, or nullptr.
    const Field* header_field(std::uint8_t tag) const;
};

/// How a file is malformed (FORMAT.md, Bounds).
enum class FaultKind {
    Truncated,       ///< a TLV's tag or length runs past the end of the file
    BadLength,       ///< a length crosses its container, the header, its record or the file
    BadValue,        ///< a fixed-size value has another size, or a value is impossible
    MissingField,    ///< VERSION/HEADERLENGTH/RECORDLENGTH not where they must be
    DuplicateField,  ///< a second SIGNATURE in the header
    TooLarge,        ///< the file exceeds kMaxFileBytes
    TooDeep,         ///< a header container nested deeper than kMaxDepth allows
};

/// Short stable name ("truncated", "bad-length", ...).
const char* to_string(FaultKind kind);

/// Where and why parsing stopped.
struct Fault {
    std::size_t offset = 0;  ///< file offset of the offending TLV (or of the end of the file)
    FaultKind kind = FaultKind::BadValue;
    std::string detail;

    /// "byte offset N: kind: detail".
    std::string message() const;
};

/// The outcome of parse(): a file, or the fault that stopped it.
struct ParseOutcome {
    std::optional<File> file;
    Fault fault;  ///< meaningful when !file
    explicit operator bool() const { return file.has_value(); }
};

/// Parses an ITL or CTL file (FORMAT.md). Never throws on any input; every length is
/// bounded by its container, the header, its record and the file.
ParseOutcome parse(ByteView data);

}  // namespace lscgate::itl
