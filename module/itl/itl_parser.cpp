// The ITL/CTL parser (FORMAT.md): the header with its containers descended into,
// then records up to the end of the file. Every length is checked against the
// innermost bound that holds it before any byte of the value is read.

#include "itl/itl_file.h"
#include "itl/itl_tags.h"

#include <string>
#include <utility>
#include <vector>

namespace lscgate::itl {

std::size_t Field::wire_size() const {
    if (padding) return 1;
    return container ? 3 : 3 + length;
}

const Field* Record::find(std::uint8_t tag) const {
    for (const auto& f : fields)
        if (f.tag == tag) return &f;
    return nullptr;
}

std::optional<std::uint16_t> Record::function() const {
    const Field* f = find(tags::kFunction);
    if (f == nullptr) return std::nullopt;
    // The parser admits only 1 or 2 bytes for FUNCTION.
    return f->value.size() == 1 ? f->value[0] : static_cast<std::uint16_t>((f->value[0] << 8) | f->value[1]);
}

const Field* File::header_field(std::uint8_t tag) const {
    for (const auto& f : header)
        if (f.tag == tag && !f.padding) return &f;
    return nullptr;
}

const char* to_string(FaultKind kind) {
    switch (kind) {
        case FaultKind::Truncated: return "truncated";
        case FaultKind::BadLength: return "bad-length";
        case FaultKind::BadValue: return "bad-value";
        case FaultKind::MissingField: return "missing-field";
        case FaultKind::DuplicateField: return "duplicate-field";
        case FaultKind::TooLarge: return "too-large";
        case FaultKind::TooDeep: return "too-deep";
    }
    return "bad-value";
}

std::string Fault::message() const {
    return "byte offset " + std::to_string(offset) + ": " + to_string(kind) + ": " + detail;
}

namespace {

// Nothing is thrown: the parser keeps the first Fault it meets and unwinds by returning false.
struct Parser {
    ByteView data;
    std::optional<Fault> fault;

    bool stop(std::size_t offset, FaultKind kind, std::string detail) {
        fault = Fault{offset, kind, std::move(detail)};
        return false;
    }

    // Reads the tag and length at `at` and checks that the value ends by `limit`.
    // `limit_name` says which bound it is, for the message.
    bool read_tlv(std::size_t at, std::size_t limit, const char* limit_name, Where where, Field& out) {
        if (at + 3 > data.size())
            return stop(at, FaultKind::Truncated, "a TLV needs 3 bytes (tag, length) but the file ends at " +
                                                      std::to_string(data.size()));
        if (at + 3 > limit)
            return stop(at, FaultKind::BadLength, std::string("tag ") + std::to_string(data[at]) + " crosses the end of " +
                                                      limit_name + " at offset " + std::to_string(limit));
        out.offset = at;
        out.tag = data[at];
        out.length = (static_cast<std::size_t>(data[at + 1]) << 8) | data[at + 2];
        if (at + 3 + out.length > limit)
            return stop(at, FaultKind::BadLength,
                        std::string(tag_label(out.tag, where)) + " (tag " + std::to_string(out.tag) + ") length " +
                            std::to_string(out.length) + " crosses the end of " + limit_name + " at offset " +
                            std::to_string(limit));
        return true;
    }

    void take_value(Field& f) {
        const auto first = data.begin() + static_cast<std::ptrdiff_t>(f.offset + 3);
        f.value.assign(first, first + static_cast<std::ptrdiff_t>(f.length));
    }

    // Fixed-size values, by where they sit (FORMAT.md, Bounds).
    bool check_size(const Field& f, Where where) {
        const auto want = fixed_sizes(f.tag, where);
        if (want.empty()) return true;
        for (auto n : want)
            if (f.length == n) return true;
        std::string sizes;
        for (auto n : want) sizes += (sizes.empty() ? "" : " or ") + std::to_string(n);
        return stop(f.offset, FaultKind::BadValue, std::string(tag_label(f.tag, where)) + " must be " + sizes +
                                                       " bytes, is " + std::to_string(f.length));
    }

    bool fixed_start(std::size_t at, std::uint8_t tag, File& file) {
        Field f;
        if (!read_tlv(at, data.size(), "the file", Where::Header, f)) return false;
        if (f.tag != tag)
            return stop(at, FaultKind::MissingField, std::string("expected ") + tag_label(tag, Where::Header) + " (tag " +
                                                         std::to_string(tag) + "), found tag " + std::to_string(f.tag) +
                                                         ": not an ITL/CTL file");
        if (!check_size(f, Where::Header)) return false;
        take_value(f);
        file.header.push_back(std::move(f));
        return true;
    }

    bool header(File& file) {
        if (!fixed_start(0, tags::kVersion, file) || !fixed_start(5, tags::kHeaderLength, file)) return false;
        file.version_major = file.header[0].value[0];
        file.version_minor = file.header[0].value[1];
        file.header_length = (static_cast<std::size_t>(file.header[1].value[0]) << 8) | file.header[1].value[1];
        if (file.header_length < 10 || file.header_length > data.size())
            return stop(5, FaultKind::BadLength, "HEADERLENGTH " + std::to_string(file.header_length) +
                                                     " is outside 10.." + std::to_string(data.size()) + " (the file size)");
        const std::size_t end = file.header_length;
        std::vector<std::size_t> open;  // ends of the containers we are inside, innermost last
        std::size_t at = 10;
        bool have_signature = false;
        while (at < end) {
            while (!open.empty() && at >= open.back()) open.pop_back();
            const std::size_t limit = open.empty() ? end : open.back();
            const char* limit_name = open.empty() ? "the header (HEADERLENGTH)" : "its container";
            Field f;
            f.depth = static_cast<int>(open.size());
            if (data[at] == tags::kPadding) {  // one byte, no length field
                f.offset = at;
                f.tag = tags::kPadding;
                f.padding = true;
                file.header.push_back(std::move(f));
                ++at;
                continue;
            }
            if (!read_tlv(at, limit, limit_name, Where::Header, f)) return false;
            if (is_container(f.tag)) {
                // A container here would put its values deeper than any ITL/CTL
                // has them; the stack of open containers stays bounded too.
                if (f.depth >= kMaxDepth)
                    return stop(at, FaultKind::TooDeep,
                                std::string(tag_label(f.tag, Where::Header)) + " (tag " + std::to_string(f.tag) +
                                    ") opens a container at depth " + std::to_string(f.depth) + ": its values would nest " +
                                    std::to_string(f.depth + 1) + " deep, ITL/CTL headers nest at most " +
                                    std::to_string(kMaxDepth) + " (SIGNATUREINFO > SIGNATUREALGOINFO)");
                f.container = true;
                open.push_back(at + 3 + f.length);
                file.header.push_back(std::move(f));
                at += 3;
                continue;
            }
            if (!check_size(f, Where::Header)) return false;
            if (f.tag == tags::kSignature) {
                if (have_signature) return stop(at, FaultKind::DuplicateField, "a second SIGNATURE in the header");
                have_signature = true;
            }
            take_value(f);
            at += 3 + f.length;
            file.header.push_back(std::move(f));
        }
        return true;
    }

    bool record(std::size_t at, File& file) {
        Field first;
        if (!read_tlv(at, data.size(), "the file", Where::Record, first)) return false;
        if (first.tag != tags::kRecordLength)
            return stop(at, FaultKind::MissingField, "a record must start with RECORDLENGTH (tag 1), found tag " +
                                                         std::to_string(first.tag));
        if (!check_size(first, Where::Record)) return false;
        take_value(first);
        Record r;
        r.offset = at;
        r.length = (static_cast<std::size_t>(first.value[0]) << 8) | first.value[1];
        if (r.length < 5 || at + r.length > data.size())
            return stop(at, FaultKind::BadLength, "RECORDLENGTH " + std::to_string(r.length) + " is outside 5.." +
                                                      std::to_string(data.size() - at) + " (bytes left in the file)");
        r.fields.push_back(std::move(first));
        const std::size_t end = at + r.length;
        for (std::size_t p = at + 5; p < end;) {
            Field f;
            if (!read_tlv(p, end, "its record (RECORDLENGTH)", Where::Record, f)) return false;
            if (!check_size(f, Where::Record)) return false;
            take_value(f);
            p += 3 + f.length;
            r.fields.push_back(std::move(f));
        }
        file.records.push_back(std::move(r));
        return true;
    }
};

}  // namespace

ParseOutcome parse(ByteView data) {
    ParseOutcome out;
    if (data.size() > kMaxFileBytes) {
        out.fault = Fault{kMaxFileBytes, FaultKind::TooLarge,
                          "the file has " + std::to_string(data.size()) + " bytes, more than the " +
                              std::to_string(kMaxFileBytes) + " an ITL/CTL may have here"};
        return out;
    }
    Parser p{data, std::nullopt};
    File file;
    file.size = data.size();
    bool ok = p.header(file);
    std::size_t at = file.header_length;
    while (ok && at < data.size()) {
        ok = p.record(at, file);
        if (ok) at = file.records.back().offset + file.records.back().length;
    }
    if (!ok) {
        out.fault = std::move(*p.fault);
        return out;
    }
    out.file = std::move(file);
    return out;
}

}  // namespace lscgate::itl
