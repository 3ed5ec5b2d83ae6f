// `lscgate rollout create|next|list|status` (issue 10 items 3 and 4): enrol a
// fleet in waves, as phones come to CAPF when their configuration is applied.
// The workflow is fleet/rollout.h; what is shown is cli/rollout_view.h.

#include "cli/bulk_source.h"
#include "cli/commands.h"
#include "fleet/operation_request.h"
#include "cli/rollout_view.h"
#include "fleet/rollout.h"
#include "fleet/rollout_plan.h"
#include "pki/printable.h"
#include "pki/time_text.h"

#include <cstdio>

namespace lscgate::cli {
namespace {

struct CreateArgs {
    std::string name;
    BulkOptions bulk;
    std::string operation = "install";
    std::string auth = "null";
    std::string key = "rsa:2048";
    std::string by;
    bool allow_weak_key = false;
    int wave_size = kDefaultWaveSize;
    bool replace = false;
};

void print_outcomes(CliContext& ctx, const WaveRun& run, const GeneratedStrings& strings) {
    const std::string wave = " (wave " + std::to_string(run.wave) + ")";
    if (ctx.json) {
        nlohmann::json scheduled = nlohmann::json::array(), skipped = nlohmann::json::array();
        for (const auto& m : run.outcomes) {
            if (!m.operation) {
                skipped.push_back({{"device", m.device}, {"reason", m.skipped}});
                continue;
            }
            nlohmann::json j = {{"device", m.device}, {"id", m.operation->id}};
            if (auto d = strings.of(m.device); !d.empty()) j["auth_string"] = d;
            scheduled.push_back(j);
        }
        ctx.print_json({{"rollout", rollout_json(run.rollout)},
                        {"wave", run.wave},
                        {"completes_by", run.completes_by ? nlohmann::json(format_utc(*run.completes_by)) : nlohmann::json(nullptr)},
                        {"scheduled", scheduled},
                        {"skipped", skipped},
                        {"already_handled", run.already_handled},
                        {"completed", run.completed}});
        return;
    }
    const OperationRequest& req = run.rollout.request;
    for (const auto& m : run.outcomes) {
        if (!m.operation) {
            std::cout << "skipped " << m.device << wave << ": " << m.skipped << "\n";
            continue;
        }
        std::cout << "scheduled " << to_string(req.kind) << " for " << m.device << wave
                  << ": auth=" << to_string(req.auth_mode) << " key=" << req.key.to_string()
                  << (run.completes_by ? " completes-by=" + format_utc(*run.completes_by) : "");
        if (auto d = strings.of(m.device); !d.empty()) std::cout << " auth-string=" << d;
        std::cout << "\n";
    }
    std::cout << std::flush;
}

// Prints what a create/next run did (every generated string is shown only
// here), then one summary line on stderr; an error says how to go on.
int report_wave(CliContext& ctx, const WaveRun& run, const GeneratedStrings& strings) {
    print_outcomes(ctx, run, strings);
    const Rollout& r = run.rollout;
    const auto skipped = std::count_if(run.outcomes.begin(), run.outcomes.end(), [](const auto& m) { return !m.operation; });
    const auto scheduled = static_cast<long>(run.outcomes.size()) - skipped;
    const std::string done = std::to_string(scheduled) + " scheduled, " + std::to_string(skipped) + " skipped" +
                             (run.already_handled ? ", " + std::to_string(run.already_handled) + " handled by an earlier run"
                                                  : "");
    if (run.error)
        return ctx.error(run.error->message + " (rollout " + r.name + " wave " + std::to_string(run.wave) + ": " + done +
                         " as shown; 'lscgate rollout next " + r.name + "' goes on with this wave)");
    std::cerr << "lscgate: rollout " << r.name << ": wave " << run.wave << " of " << r.waves << " scheduled: " << done
              << (r.next_wave <= r.waves ? "; next: lscgate rollout next " + r.name : "; that was the last wave") << "\n";
    return kExitOk;
}

// --dry-run: the waves, and which devices of the first would be skipped now.
int print_plan(CliContext& ctx, Store& store, const RolloutPlan& plan, const std::vector<std::string>& names, UnixTime now,
               bool replace) {
    const int waves = wave_count(names.size(), plan.wave_size);
    nlohmann::json jwaves = nlohmann::json::array(), jskips = nlohmann::json::array();
    for (int w = 1; w <= waves; ++w) {
        const std::size_t from = static_cast<std::size_t>(w - 1) * static_cast<std::size_t>(plan.wave_size);
        const std::size_t to = std::min(names.size(), from + static_cast<std::size_t>(plan.wave_size));
        jwaves.push_back({{"wave", w}, {"devices", std::vector<std::string>(names.begin() + static_cast<std::ptrdiff_t>(from),
                                                                            names.begin() + static_cast<std::ptrdiff_t>(to))}});
        if (!ctx.json)
            std::cout << "would make wave " << w << "/" << waves << (w == 1 ? " (scheduled at once)" : "") << ": "
                      << to - from << " devices, " << names[from] << " … " << names[to - 1] << "\n";
    }
    for (std::size_t i = 0; i < names.size() && wave_of(i, plan.wave_size) == 1; ++i) {
        auto why = rollout_skip_reason(store, names[i], replace, now);
        if (!why) return ctx.error(why.message());
        if (why->empty()) continue;
        jskips.push_back({{"device", names[i]}, {"reason", *why}});
        if (!ctx.json) std::cout << "would skip " << names[i] << " (wave 1): " << *why << "\n";
    }
    if (ctx.json)
        ctx.print_json({{"rollout", plan.name}, {"dry_run", true}, {"wave_size", plan.wave_size}, {"waves", jwaves},
                        {"skipped", jskips}});
    std::cerr << "lscgate: dry run: rollout " << plan.name << " of " << names.size() << " device(s) in " << waves
              << " wave(s); nothing was created or scheduled\n";
    return kExitOk;
}

// The plan of `rollout create` from its options (fleet/rollout_plan.h, as the web's bulk page).
Result<RolloutPlan> plan_from(const CreateArgs& a) {
    std::vector<std::string> warnings;
    auto plan = rollout_plan_from({a.name, a.operation, a.auth, a.key, a.by, a.allow_weak_key, a.wave_size}, warnings);
    for (const auto& w : warnings) std::cerr << "lscgate: warning: " << w << "\n";
    return plan;
}

int run_create(CliContext& ctx, const CreateArgs& a) {
    auto plan = plan_from(a);
    if (!plan) return ctx.error(plan.message());
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    const UnixTime now = now_utc();
    auto existing = store->find_rollout(plan->name);
    if (!existing) return ctx.error(existing.message());
    if (existing->has_value()) return ctx.error("rollout " + plan->name + " already exists (see 'lscgate rollout list')");
    auto batch = resolve_batch(ctx, *store, a.bulk, Registered::MustExist, {}, now);
    if (!batch) return ctx.error(batch.message() + " (no rollout was created)");
    std::vector<std::string> names;
    names.reserve(batch->devices.size());
    for (const auto& d : batch->devices) names.push_back(d.name);
    if (a.bulk.dry_run) return print_plan(ctx, *store, *plan, names, now, a.replace);
    auto created = create_rollout(*store, *plan, names, actor_name(), now);
    if (!created) return ctx.error(created.message() + " (no rollout was created)");
    GeneratedStrings strings;
    auto run = schedule_next_wave(*store, plan->name, strings.fn(), WaveOptions{a.replace}, actor_name(), now);
    if (!run)
        return ctx.error(run.message() + " (rollout " + plan->name + " was created; 'lscgate rollout next " + plan->name +
                         "' schedules its first wave)");
    const int rc = report_wave(ctx, *run, strings);
    if (rc == kExitOk && plan->request.auth_mode == AuthMode::Null) {
        std::cerr << "note: auth=null accepts any phone that claims the name; use --auth string or lsc/mic outside a closed network\n";
        for (const auto& w : soft_client_warnings(names, plan->request.kind)) std::cerr << "lscgate: warning: " << w << "\n";
    }
    return rc;
}

int run_next(CliContext& ctx, const std::string& name, bool replace) {
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    GeneratedStrings strings;
    auto run = schedule_next_wave(*store, name, strings.fn(), WaveOptions{replace}, actor_name(), now_utc());
    if (!run) return ctx.error(run.message());
    return report_wave(ctx, *run, strings);
}

int run_list(CliContext& ctx) {
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    auto rollouts = list_rollouts(*store);
    if (!rollouts) return ctx.error(rollouts.message());
    if (ctx.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& r : *rollouts) out.push_back(rollout_json(r));
        ctx.print_json(out);
        return kExitOk;
    }
    std::printf("%-20s %-8s %-11s %-9s %8s %-9s %-9s %-21s %s\n", "NAME", "OP", "AUTH", "KEY", "DEVICES", "WAVES",
                "BY", "CREATED", "CREATED BY");
    for (const auto& r : *rollouts) {
        const std::string waves = std::to_string(std::min(r.next_wave - 1, r.waves)) + "/" + std::to_string(r.waves);
        const std::string by = r.by_seconds ? "+" + format_eta(*r.by_seconds) : "-";
        std::printf("%-20s %-8s %-11s %-9s %8d %-9s %-9s %-21s %s\n", r.name.c_str(),
                    std::string(to_string(r.request.kind)).c_str(), std::string(to_string(r.request.auth_mode)).c_str(),
                    r.request.key.to_string().c_str(), r.devices, waves.c_str(), by.c_str(),
                    format_utc(r.created_at).c_str(), escape_nonprintable(r.created_by).c_str());
    }
    return kExitOk;
}

void add_create(CLI::App& rollout, CliContext& ctx) {
    auto a = std::make_shared<CreateArgs>();
    auto* cmd = rollout.add_subcommand("create", "Split the devices into waves and schedule the first wave");
    // Before the bulk options: the first positional word is the rollout's name, the rest device names.
    cmd->add_option("ROLLOUT", a->name, "the rollout's name (letters, digits, . _ -)")->required();
    add_bulk_options(*cmd, a->bulk, true);
    cmd->add_option("--operation", a->operation, "what each device gets: install | fetch | delete")
        ->capture_default_str()
        ->check(CLI::IsMember({"install", "fetch", "delete"}));
    cmd->add_option("--auth", a->auth, "null | string (generated per device) | string:DIGITS | lsc | mic | lsc-or-mic | mic-or-lsc")
        ->capture_default_str();
    cmd->add_option("--key", a->key, "rsa:1024|rsa:2048|rsa:3072|rsa:4096|ec:p256|ec:p384|ec:p521")->capture_default_str();
    cmd->add_option("--by", a->by, "each wave's deadline after its scheduling: +30m, +12h, +7d");
    cmd->add_option("--wave-size", a->wave_size, "devices per wave")->capture_default_str()->check(CLI::Range(1, kMaxWaveSize));
    cmd->add_flag("--allow-weak-key", a->allow_weak_key,
                  "schedule rsa:1024 anyway (FreeRADIUS on Debian 12 refuses such LSCs unless its security level is lowered)");
    cmd->add_flag("--replace", a->replace, "reschedule devices of the first wave that have an open operation (it is cancelled)");
    cmd->add_flag("--json", ctx.json, "print as JSON");
    cmd->callback([&ctx, a] { ctx.exit_code = run_create(ctx, *a); });
}

void add_status(CLI::App& rollout, CliContext& ctx) {
    auto a = std::make_shared<StatusArgs>();
    auto wave = std::make_shared<int>(0);
    auto* cmd = rollout.add_subcommand("status", "Progress of a rollout (every rollout without NAME)");
    cmd->add_option("ROLLOUT", a->name, "the rollout's name");
    cmd->add_option("--wave", *wave, "only this wave")->check(CLI::Range(1, 1000000));
    cmd->add_flag("--watch", a->watch, "redraw until nothing scheduled is pending or in progress (Ctrl-C stops)");
    cmd->add_option("--interval", a->interval, "seconds between redraws with --watch")
        ->capture_default_str()
        ->check(CLI::Range(0.2, 3600.0));
    cmd->add_flag("--json", ctx.json, "print as JSON");
    cmd->callback([&ctx, a, wave] {
        if (*wave > 0) a->wave = *wave;
        ctx.exit_code = run_rollout_status(ctx, *a);
    });
}

}  // namespace

void add_rollout_command(CLI::App& app, CliContext& ctx) {
    auto* rollout = app.add_subcommand("rollout", "Enrol devices in waves (create, next, list, status)");
    rollout->require_subcommand(1);
    add_create(*rollout, ctx);

    auto next_name = std::make_shared<std::string>();
    auto next_replace = std::make_shared<bool>(false);
    auto* next = rollout->add_subcommand("next", "Schedule the rollout's next wave (or finish an interrupted one)");
    next->add_option("ROLLOUT", *next_name, "the rollout's name")->required();
    next->add_flag("--replace", *next_replace, "reschedule devices that have an open operation (it is cancelled)");
    next->add_flag("--json", ctx.json, "print as JSON");
    next->callback([&ctx, next_name, next_replace] { ctx.exit_code = run_next(ctx, *next_name, *next_replace); });

    auto* list = rollout->add_subcommand("list", "List the rollouts");
    list->add_flag("--json", ctx.json, "print as JSON");
    list->callback([&ctx] { ctx.exit_code = run_list(ctx); });

    add_status(*rollout, ctx);
}

}  // namespace lscgate::cli
