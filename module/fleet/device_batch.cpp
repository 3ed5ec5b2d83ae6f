#include "fleet/device_batch.h"

#include "pki/printable.h"
#include "registry/device_name.h"

#include <unordered_map>

namespace lscgate {
namespace {

// Adds `d` unless its name is already in `batch`; a repeat is recorded as a duplicate.
void add_once(DeviceBatch& batch, std::unordered_map<std::string, std::size_t>& index,
              std::unordered_map<std::string, std::size_t>& dup_index, BatchDevice d) {
    auto [it, fresh] = index.emplace(d.name, batch.devices.size());
    if (fresh) {
        batch.devices.push_back(std::move(d));
        return;
    }
    auto [dit, first_repeat] = dup_index.emplace(d.name, batch.duplicates.size());
    if (first_repeat) {
        DuplicateDevice dup{d.name, {}};
        if (batch.devices[it->second].line != 0) dup.lines.push_back(batch.devices[it->second].line);
        batch.duplicates.push_back(std::move(dup));
    }
    if (d.line != 0) batch.duplicates[dit->second].lines.push_back(d.line);
}

std::string join_lines(const std::vector<std::size_t>& lines) {
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i > 0) out += i + 1 == lines.size() ? " and " : ", ";
        out += std::to_string(lines[i]);
    }
    return out;
}

}  // namespace

std::string DeviceBatch::where(const BatchDevice& d) const {
    if (d.line == 0) return "";
    return source + ":" + std::to_string(d.line) + ": ";
}

std::vector<std::string> DeviceBatch::duplicate_notes() const {
    std::vector<std::string> out;
    for (const auto& d : duplicates) {
        if (d.lines.empty()) out.push_back(d.name + " was given more than once; acting on it once");
        else out.push_back(d.name + " is listed on lines " + join_lines(d.lines) + " of " + source + "; acting on it once");
    }
    return out;
}

Result<DeviceBatch> batch_from_input(const DeviceInput& input, const std::string& source) {
    DeviceBatch batch;
    batch.source = source;
    std::unordered_map<std::string, std::size_t> index, dup_index;
    for (const auto& row : input.rows) {
        auto name = normalize_device_name(row.name);
        if (!name) return fail(ErrorKind::Input, source + ":" + std::to_string(row.line) + ": " + name.message());
        add_once(batch, index, dup_index, BatchDevice{*name, row.line, row.model, row.description});
    }
    if (batch.devices.empty())
        return fail(ErrorKind::Input, source + ": no devices in input");
    return batch;
}

Result<DeviceInput> parse_device_input_in(std::string_view text, const std::string& source) {
    auto input = parse_device_input(text);
    if (input) return input;
    const std::string& m = input.message();
    const std::string_view line_prefix = "line ";
    if (m.rfind(line_prefix, 0) == 0) return fail(input.kind(), source + ":" + m.substr(line_prefix.size()));
    return fail(input.kind(), source + ": " + m);
}

Result<DeviceBatch> batch_from_text(std::string_view text, const std::string& source) {
    auto input = parse_device_input_in(text, source);
    if (!input) return input.error();
    return batch_from_input(*input, source);
}

std::vector<std::string> invalid_name_lines(const DeviceInput& input, const std::string& source, std::size_t limit) {
    std::vector<std::string> out;
    for (const auto& row : input.rows) {
        if (out.size() >= limit) break;
        if (auto name = normalize_device_name(row.name); !name)
            out.push_back(source + ":" + std::to_string(row.line) + ": " + name.message());
    }
    return out;
}

Result<std::vector<std::string>> registration_problems(Store& store, const DeviceBatch& batch, Registered rule,
                                                       std::size_t limit) {
    std::vector<std::string> out;
    for (const auto& d : batch.devices) {
        if (out.size() >= limit) break;
        auto found = store.find_device(d.name);
        if (!found) return found.error();
        if (rule == Registered::MustExist && !found->has_value())
            out.push_back(batch.where(d) + "no such device: " + d.name + " (add it with 'lscgate device add')");
        if (rule == Registered::MustNotExist && found->has_value())
            out.push_back(batch.where(d) + "device " + d.name + " already exists");
    }
    return out;
}

Status check_registered(Store& store, const DeviceBatch& batch, Registered rule) {
    auto problems = registration_problems(store, batch, rule, 1);
    if (!problems) return problems.error();
    if (!problems->empty()) return fail(ErrorKind::Input, problems->front());
    return {};
}

Result<DeviceBatch> batch_from_names(const std::vector<std::string>& names) {
    DeviceBatch batch;
    std::unordered_map<std::string, std::size_t> index, dup_index;
    for (const auto& raw : names) {
        auto name = normalize_device_name(raw);
        if (!name) return name.error();
        add_once(batch, index, dup_index, BatchDevice{*name, 0, "", ""});
    }
    if (batch.devices.empty()) return fail(ErrorKind::Input, "no devices given");
    return batch;
}

}  // namespace lscgate
