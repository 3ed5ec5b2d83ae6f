// Feeds arbitrary bytes to the ITL/CTL parser and to everything `lscgate itl`
// does with what it parsed: show (JSON and text), verify, check-capf. Any crash,
// leak or UB is a bug; so is a fault offset outside the input, or a parsed file
// whose header and records do not tile it exactly.

#include "itl/itl_capf_check.h"
#include "itl/itl_file.h"
#include "itl/itl_show.h"
#include "itl/itl_signature.h"

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
        if (f.offset + f.wire_size() > file.header_length) __builtin_trap();
    (void)itl::file_json(file).dump();
    (void)itl::file_text(file);
    (void)itl::verify_signature(file, input);
    // The first certificate of the file as "this CAPF", so check-capf compares something real.
    for (const auto& r : file.records)
        if (const auto* c = r.find(9); c != nullptr) {
            (void)itl::check_capf(file, c->value);
            break;
        }
    (void)itl::check_capf(file, input.first(size < 16 ? size : 16));
    return 0;
}
