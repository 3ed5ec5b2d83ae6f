#include "web/bulk_request.h"

#include "pki/printable.h"

#include <charconv>

namespace lscgate::web {
namespace {

constexpr std::size_t kMaxSourceName = 100;

// The name an upload is called by in messages: its base name (a browser may
// send a path), printable, bounded. It is only ever shown, never opened.
std::string source_name(const std::string& filename) {
    std::string base = filename.substr(filename.find_last_of("/\\") + 1);
    base = escape_nonprintable(base.substr(0, kMaxSourceName));
    return base.empty() ? std::string("uploaded file") : base;
}

// Keeps at most kMaxBulkProblems of `problems`, noting that there were more.
void keep_problems(CheckedBatch& out, std::vector<std::string> problems) {
    if (problems.size() > kMaxBulkProblems) {
        problems.resize(kMaxBulkProblems);
        out.more_problems = true;
    }
    out.problems = std::move(problems);
}

// The options: at once as `lscgate op`, in waves as `lscgate rollout create`.
void check_options(const BulkForm& f, UnixTime now, CheckedBatch& out) {
    if (f.operation == "cancel") return;  // cancelling takes no options
    if (f.wave_size > 0) {
        auto plan = rollout_plan_from({f.rollout, f.operation, f.auth_words(), f.key, f.by, f.allow_weak_key, f.wave_size},
                                      out.warnings);
        if (plan) out.plan = std::move(*plan);
        else out.option_problems.push_back(plan.message());
        return;
    }
    auto kind = parse_operation_kind(f.operation);
    if (!kind || *kind == OperationKind::None) {
        out.option_problems.emplace_back("choose install, fetch, delete or cancel");
        return;
    }
    auto options = parse_request_options(*kind, f.auth_words(), f.key, f.allow_weak_key);
    if (options) {
        out.warnings.insert(out.warnings.end(), options->warnings.begin(), options->warnings.end());
        out.options = std::move(*options);
    } else {
        out.option_problems.push_back(options.message());
    }
    auto by = parse_completes_by(f.by, now);
    if (by) out.completes_by = *by;
    else out.option_problems.push_back(by.message());
}

// Whether `name` has an operation open at `now`, and which ("install 12"); "" if none.
Result<std::string> open_operation_of(Store& store, const std::string& name, UnixTime now) {
    auto device = store.find_device(name);
    if (!device) return device.error();
    if (!device->has_value()) return std::string();
    auto op = store.open_operation((*device)->id);
    if (!op) return op.error();
    if (!op->has_value()) return std::string();
    const OperationState s = effective_state(**op, now);
    if (s != OperationState::Pending && s != OperationState::InProgress) return std::string();
    return std::string(to_string((*op)->request.kind)) + " " + std::to_string((*op)->id);
}

// Per device what this run would do besides the plain case; for cancel, a
// device without an open operation is a problem (the whole batch is refused).
Status note_devices(Store& store, const BulkForm& f, UnixTime now, CheckedBatch& out) {
    const DeviceBatch& batch = *out.batch;
    std::vector<std::string> problems;
    for (std::size_t i = 0; i < batch.devices.size(); ++i) {
        const BatchDevice& d = batch.devices[i];
        std::string note;
        if (out.plan) {
            const int wave = wave_of(i, out.plan->wave_size);
            note = "wave " + std::to_string(wave);
            if (wave == 1) {
                auto why = rollout_skip_reason(store, d.name, f.replace, now);
                if (!why) return why.error();
                if (!why->empty()) note += ": skipped, " + *why;
            }
        } else {
            auto open = open_operation_of(store, d.name, now);
            if (!open) return open.error();
            if (f.operation == "cancel") {
                if (open->empty()) problems.push_back(batch.where(d) + d.name + " has no open operation to cancel");
                else note = "cancels " + *open;
            } else if (!open->empty()) {
                note = "replaces the open " + *open;
            }
        }
        out.notes.push_back(std::move(note));
    }
    if (!problems.empty()) keep_problems(out, std::move(problems));
    return {};
}

}  // namespace

std::string BulkForm::auth_words() const { return auth == "string" && !digits.empty() ? "string:" + digits : auth; }

std::string BulkForm::summary() const {
    if (operation == "cancel") return "cancel the open operation";
    std::string out = operation + " auth=" + (auth == "string" && digits.empty() ? "string (one generated per device)" : auth) +
                      " key=" + key;
    if (!by.empty()) out += wave_size > 0 ? ", each wave completes by " + by + " after its scheduling" : ", completes by " + by;
    if (wave_size > 0) out += ", in waves of " + std::to_string(wave_size) + " (rollout " + rollout + ")";
    return out;
}

Result<BulkForm> read_bulk_form(const WebRequest& request) {
    BulkForm f;
    auto upload = request.uploads.find("file");
    if (upload != request.uploads.end() && !upload->second.content.empty()) {
        f.source = source_name(upload->second.filename);
        f.text = upload->second.content;
    } else if (!request.param("text").empty()) {
        const std::string source = request.param("source");
        f.source = source.empty() ? std::string("pasted list") : source_name(source);
        f.text = request.param("text");
    } else {
        return fail(ErrorKind::Input, "choose a file (one device name per line, or a CSV with a Device Name column) or "
                                      "paste the names");
    }
    f.operation = request.param("operation");
    f.auth = request.param("auth");
    f.digits = request.param("digits");
    f.key = request.param("key");
    f.by = request.param("by");
    f.allow_weak_key = request.param("allow_weak_key") == "on";
    f.rollout = request.param("rollout");
    f.replace = request.param("replace") == "on";
    if (const std::string waves = request.param("wave_size"); !waves.empty()) {
        const auto [end, ec] = std::from_chars(waves.data(), waves.data() + waves.size(), f.wave_size);
        if (ec != std::errc() || end != waves.data() + waves.size() || f.wave_size < 1 || f.wave_size > kMaxWaveSize)
            return fail(ErrorKind::Input, "wave size: give a number from 1 to " + std::to_string(kMaxWaveSize) +
                                              ", or leave it empty to schedule every device at once");
    }
    if (f.wave_size > 0 && f.operation == "cancel") return fail(ErrorKind::Input, "cancel acts at once: leave the wave size empty");
    return f;
}

Result<CheckedBatch> check_bulk(WebApp& app, const BulkForm& form, UnixTime now) {
    CheckedBatch out;
    check_options(form, now, out);
    auto input = parse_device_input_in(form.text, form.source);
    if (!input) {
        out.problems.push_back(input.message());
        return out;
    }
    if (auto bad = invalid_name_lines(*input, form.source, kMaxBulkProblems + 1); !bad.empty()) {
        keep_problems(out, std::move(bad));
        return out;
    }
    auto batch = batch_from_input(*input, form.source);
    if (!batch) {
        out.problems.push_back(batch.message());
        return out;
    }
    auto checked = app.with_store([&](Store& store) -> Status {
        auto unknown = registration_problems(store, *batch, Registered::MustExist, kMaxBulkProblems + 1);
        if (!unknown) return unknown.error();
        if (!unknown->empty()) {
            keep_problems(out, std::move(*unknown));
            return {};
        }
        if (out.plan) {
            auto existing = store.find_rollout(out.plan->name);
            if (!existing) return existing.error();
            if (existing->has_value()) out.option_problems.push_back("rollout " + out.plan->name + " already exists");
        }
        out.batch = std::move(*batch);
        return note_devices(store, form, now, out);
    });
    if (!checked) return checked.error();
    if (out.ok() && form.auth == "null") {
        std::vector<std::string> names;
        for (const auto& d : out.batch->devices) names.push_back(d.name);
        const OperationKind kind = out.plan ? out.plan->request.kind : out.options ? out.options->request.kind : OperationKind::None;
        for (auto& w : soft_client_warnings(names, kind)) out.warnings.push_back(std::move(w));
    }
    return out;
}

}  // namespace lscgate::web
