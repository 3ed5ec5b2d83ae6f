// Untrusted files on the administrator's side: a BAT custom file or phone
// export given to `--from` (fleet/device_input.h, libcsv), then the batch rules
// (fleet/device_batch.h). Nothing may crash, and what comes out must hold the
// reader's promises: every row on a line of the input, every batch name valid
// and listed once.

#include "fleet/device_batch.h"
#include "fleet/device_input.h"
#include "registry/device_name.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

using namespace lscgate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto input = parse_device_input(text);
    if (!input) return 0;
    std::size_t lines = 1;
    for (char c : text) lines += c == '\n' ? 1 : 0;
    for (const auto& row : input->rows)
        if (row.line < 1 || row.line > lines || row.name.empty()) std::abort();
    auto batch = batch_from_input(*input, "fuzz");
    if (!batch) return 0;
    std::set<std::string> names;
    for (const auto& d : batch->devices) {
        auto again = normalize_device_name(d.name);
        if (!again || *again != d.name || !names.insert(d.name).second) std::abort();
    }
    return 0;
}
