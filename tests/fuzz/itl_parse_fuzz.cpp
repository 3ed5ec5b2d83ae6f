// Feeds arbitrary bytes to the ITL/CTL parser and to everything `lscgate itl`
// does with what it parsed: show (JSON and text), verify, check-capf. Any crash,
// leak or UB is a bug; so is a fault offset outside the input, or a parsed file
// whose header and records do not tile it exactly, a header nested deeper than
// kMaxDepth, a byte outside printable ASCII in the text output (a name printed
// raw), or JSON that nlohmann's strict dump refuses (invalid UTF-8 passed on).

#include "itl/itl_capf_check.h"
#include "itl/itl_file.h"
#include "itl/itl_show.h"
#include "itl/itl_signature.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>

using namespace lscgate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView input(data, size);
    auto out = itl::parse(input);
    if (!out) {
        if (out.fault.offset > size) __builtin_trap();
        return 0;
    }
    const itl::File& file = *out.file;
    // Records start at HEADERLENGTH and tile the rest of the file; every field lies inside its record.
    std::size_t at = file.header_length;
    for (const auto& r : file.records) {
        if (r.offset != at || r.length < 5) __builtin_trap();
        for (const auto& f : r.fields)
            if (f.offset < r.offset || f.offset + f.wire_size() > r.offset + r.length) __builtin_trap();
        at += r.length;
    }
    if (at != size) __builtin_trap();
    for (const auto& f : file.header)
        if (f.offset + f.wire_size() > file.header_length || f.depth > itl::kMaxDepth) __builtin_trap();
    (void)itl::file_json(file).dump();  // strict: throws (and aborts the fuzzer) on invalid UTF-8
    for (const char c : itl::file_text(file))
        if (c != '\n' && (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E)) __builtin_trap();
    (void)itl::verify_signature(file, input);
    // check-capf's subjects and details reach the terminal and JSON as they are.
    const auto printable = [](const itl::CapfCheck& check) {
        for (const auto& r : check.records) {
            (void)nlohmann::json{{"subject", r.subject}, {"detail", r.detail}}.dump();
            for (const char c : r.subject + r.detail)
                if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E) __builtin_trap();
        }
    };
    // The first certificate of the file as "this CAPF", so check-capf compares something real.
    for (const auto& r : file.records)
        if (const auto* c = r.find(9); c != nullptr) {
            printable(itl::check_capf(file, c->value));
            break;
        }
    printable(itl::check_capf(file, input.first(size < 16 ? size : 16)));
    return 0;
}
