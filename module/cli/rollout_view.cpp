#include "cli/rollout_view.h"

#include "capf/session_cause.h"
#include "pki/certificate.h"
#include "pki/printable.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

namespace lscgate::cli {
namespace {

// On a terminal, a failure group lists at most this many lines of device names
// and the skipped devices at most this many: the redraw must fit the screen.
constexpr std::size_t kTerminalDeviceLines = 3;
constexpr std::size_t kTerminalSkippedLines = 5;

nlohmann::json optional_time(const std::optional<UnixTime>& t) {
    return t ? nlohmann::json(format_utc(*t)) : nlohmann::json(nullptr);
}

nlohmann::json throughput_json(nlohmann::json j, const Throughput& t) {
    j["rate_per_min"] = t.rate_per_min ? nlohmann::json(*t.rate_per_min) : nlohmann::json(nullptr);
    j["eta_seconds"] = t.eta_seconds ? nlohmann::json(*t.eta_seconds) : nlohmann::json(nullptr);
    return j;
}

nlohmann::json counts_json(const StatusCounts& c) {
    return {{"total", c.total()},         {"waiting", c.waiting},   {"skipped", c.skipped},
            {"pending", c.pending},       {"in_progress", c.in_progress}, {"succeeded", c.succeeded},
            {"failed", c.failed},         {"timed_out", c.timed_out}, {"cancelled", c.cancelled}};
}

// "300 devices: 193 succeeded, 7 failed, 100 waiting": the categories that are not empty.
std::string counts_text(const StatusCounts& c) {
    std::string out = std::to_string(c.total()) + " devices";
    const std::pair<int, const char*> parts[] = {{c.succeeded, "succeeded"}, {c.failed, "failed"},
                                                 {c.timed_out, "timed out"}, {c.pending, "pending"},
                                                 {c.in_progress, "in progress"}, {c.cancelled, "cancelled"},
                                                 {c.skipped, "skipped"},     {c.waiting, "waiting"}};
    const char* sep = ": ";
    for (const auto& [n, what] : parts) {
        if (n == 0) continue;
        out += sep + std::to_string(n) + " " + what;
        sep = ", ";
    }
    return out;
}

// "; 4.1/min; ETA 10m" / "; done": what the rate says of the open devices.
std::string pace_text(const StatusCounts& c, const Throughput& t) {
    std::string out;
    if (t.rate_per_min) {
        char rate[32];
        std::snprintf(rate, sizeof rate, "; %.1f/min", *t.rate_per_min);
        out += rate;
    }
    if (c.scheduled() == 0) return out;
    if (c.open() == 0) return out + "; done";
    return out + "; ETA " + (t.eta_seconds ? format_eta(*t.eta_seconds) : std::string("-"));
}

std::string wave_text(const WaveStatus& w, int waves) {
    std::string line = "wave " + std::to_string(w.wave.wave) + "/" + std::to_string(waves);
    if (!w.wave.scheduled_at) return line + " waiting: " + counts_text(w.counts);
    line += " scheduled " + format_utc(*w.wave.scheduled_at);
    if (w.wave.completes_by) line += " completes-by " + format_utc(*w.wave.completes_by);
    return line + ": " + counts_text(w.counts) + pace_text(w.counts, w.throughput);
}

// Names joined by spaces in lines of at most `width` columns (indented); on a
// terminal at most kTerminalDeviceLines of them, then how many were left out.
void device_lines(std::vector<std::string>& out, const std::vector<std::string>& devices, bool terminal, int width) {
    if (!terminal) {
        for (const auto& d : devices) out.push_back("    " + d);
        return;
    }
    std::string line = "   ";
    std::size_t shown = 0, lines = 0;
    for (const auto& d : devices) {
        if (line.size() + 1 + d.size() > static_cast<std::size_t>(std::max(width, 40))) {
            out.push_back(line);
            line = "   ";
            if (++lines == kTerminalDeviceLines) break;
        }
        line += " " + d;
        ++shown;
    }
    if (lines < kTerminalDeviceLines && line.size() > 3) out.push_back(line);
    if (shown < devices.size())
        out.push_back("    … and " + std::to_string(devices.size() - shown) + " more (--json lists them all)");
}

void failure_lines(std::vector<std::string>& out, const RolloutStatus& s, bool terminal, int width) {
    if (!s.failures.empty()) out.push_back("failures by cause:");
    for (const auto& g : s.failures) {
        out.push_back("  " + g.cause_class + " (" + escape_nonprintable(failure_description(g)) +
                      "): " + std::to_string(g.devices.size()) + (g.devices.size() == 1 ? " device" : " devices"));
        device_lines(out, g.devices, terminal, width);
    }
    if (s.skipped.empty()) return;
    out.push_back("skipped: " + std::to_string(s.skipped.size()) + (s.skipped.size() == 1 ? " device" : " devices"));
    std::size_t shown = 0;
    for (const auto& m : s.skipped) {
        if (terminal && shown == kTerminalSkippedLines) {
            out.push_back("    … and " + std::to_string(s.skipped.size() - shown) + " more (--json lists them all)");
            break;
        }
        out.push_back("    " + m.device + " (wave " + std::to_string(m.wave) + "): " + escape_nonprintable(m.reason));
        ++shown;
    }
}

// How many terminal rows `line` takes at `width` columns (a longer line wraps):
// the redraw moves the cursor up by rows, not by lines. Counts UTF-8 code
// points ("…"); every character shown is one column wide.
std::size_t terminal_rows(const std::string& line, int width) {
    const auto columns = static_cast<std::size_t>(
        std::count_if(line.begin(), line.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
    const auto w = static_cast<std::size_t>(std::max(1, width));
    return std::max<std::size_t>(1, (columns + w - 1) / w);
}

int terminal_width() {
    winsize ws{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 80;
}

bool stdout_is_terminal() {
    const char* term = std::getenv("TERM");
    return isatty(STDOUT_FILENO) == 1 && !(term && std::string_view(term) == "dumb");
}

// The statuses `args` asks for, read at `now`.
Result<std::vector<RolloutStatus>> read_statuses(Store& store, const StatusArgs& args, UnixTime now) {
    std::vector<std::string> names;
    if (!args.name.empty()) names.push_back(args.name);
    else {
        auto all = store.each_rollout([&](const Rollout& r) -> Status {
            names.push_back(r.name);
            return {};
        });
        if (!all) return all.error();
    }
    std::vector<RolloutStatus> out;
    for (const auto& name : names) {
        auto s = read_rollout_status(store, name, args.wave, now);
        if (!s) return s.error();
        out.push_back(std::move(*s));
    }
    return out;
}

}  // namespace

nlohmann::json rollout_json(const Rollout& r) {
    return {{"name", r.name},
            {"operation", std::string(to_string(r.request.kind))},
            {"auth", std::string(to_string(r.request.auth_mode))},
            {"generated_strings", r.generate_strings},
            {"key", r.request.key.to_string()},
            {"wave_size", r.wave_size},
            {"waves", r.waves},
            {"next_wave", r.next_wave <= r.waves ? nlohmann::json(r.next_wave) : nlohmann::json(nullptr)},
            {"devices", r.devices},
            {"by_seconds", r.by_seconds ? nlohmann::json(*r.by_seconds) : nlohmann::json(nullptr)},
            {"created_at", format_utc(r.created_at)},
            {"created_by", r.created_by}};
}

std::string rollout_summary(const Rollout& r) {
    std::string out = std::string(to_string(r.request.kind)) + " auth=" + std::string(to_string(r.request.auth_mode)) +
                      (r.generate_strings ? " (a string per device)" : "") + " key=" + r.request.key.to_string() +
                      ", " + std::to_string(r.devices) + " devices in " + std::to_string(r.waves) +
                      (r.waves == 1 ? " wave of " : " waves of ") + std::to_string(r.wave_size);
    if (r.by_seconds) out += ", each wave completes by +" + format_eta(*r.by_seconds) + " after its scheduling";
    return out;
}

std::string failure_description(const FailureGroup& g) {
    if (g.cause_class == "no-session") return "completes-by passed before the phone came to CAPF";
    if (g.cause_class == "unknown") return g.detail.empty() ? "no cause recorded" : g.detail;
    if (auto c = capf::parse_session_cause(g.cause_class); c && *c != capf::SessionCause::None)
        return std::string(capf::describe(*c));
    return g.cause_class;
}

nlohmann::json status_json(const RolloutStatus& s) {
    nlohmann::json waves = nlohmann::json::array();
    for (const auto& w : s.waves)
        waves.push_back(throughput_json({{"wave", w.wave.wave},
                                         {"devices", w.counts.total()},
                                         {"scheduled_at", optional_time(w.wave.scheduled_at)},
                                         {"completes_by", optional_time(w.wave.completes_by)},
                                         {"counts", counts_json(w.counts)}},
                                        w.throughput));
    nlohmann::json failures = nlohmann::json::array();
    for (const auto& g : s.failures)
        failures.push_back({{"class", g.cause_class}, {"description", failure_description(g)}, {"devices", g.devices}});
    nlohmann::json skipped = nlohmann::json::array();
    for (const auto& m : s.skipped) skipped.push_back({{"device", m.device}, {"wave", m.wave}, {"reason", m.reason}});
    return throughput_json({{"rollout", rollout_json(s.rollout)},
                            {"at", format_utc(s.at)},
                            {"waves", waves},
                            {"counts", counts_json(s.counts)},
                            {"failures", failures},
                            {"skipped", skipped},
                            {"settled", s.settled()}},
                           s.throughput);
}

std::vector<std::string> status_lines(const RolloutStatus& s, bool terminal, int width) {
    const Rollout& r = s.rollout;
    std::vector<std::string> out;
    out.push_back("rollout " + r.name + ": " + rollout_summary(r));
    // The bar takes what the line's text leaves of the terminal's width.
    const int bar = std::clamp(width - 70, 10, 40);
    for (const auto& w : s.waves) out.push_back(terminal ? progress_line(w, r.waves, bar) : wave_text(w, r.waves));
    out.push_back("total: " + counts_text(s.counts) + pace_text(s.counts, s.throughput));
    out.push_back(r.next_wave <= r.waves ? "next: wave " + std::to_string(r.next_wave) + " (lscgate rollout next " +
                                               r.name + ")"
                                         : "every wave is scheduled");
    failure_lines(out, s, terminal, width);
    return out;
}

int run_rollout_status(CliContext& ctx, const StatusArgs& args) {
    if (args.wave && args.name.empty()) return ctx.error("--wave needs the rollout's NAME");
    if (args.watch && ctx.json) return ctx.error("--watch draws on a terminal or prints lines: use --json without it");
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    const bool terminal = !ctx.json && stdout_is_terminal();
    std::size_t drawn = 0;  // rows drawn last time on the terminal (redrawn in place)
    std::string last;       // the text printed last time (plain --watch prints changes only)
    while (true) {
        auto statuses = read_statuses(*store, args, now_utc());
        if (!statuses) return ctx.error(statuses.message());
        if (ctx.json) {
            nlohmann::json out = nlohmann::json::array();
            for (const auto& s : *statuses) out.push_back(status_json(s));
            ctx.print_json(args.name.empty() ? out : out.at(0));
            return kExitOk;
        }
        std::vector<std::string> lines;
        const int width = terminal ? terminal_width() : 80;
        for (const auto& s : *statuses) {
            if (!lines.empty()) lines.emplace_back();
            for (auto& l : status_lines(s, terminal, width)) lines.push_back(std::move(l));
        }
        if (statuses->empty()) lines.emplace_back("no rollouts (lscgate rollout create)");
        std::string text;
        for (const auto& l : lines) text += l + "\n";
        // Cursor up over the last drawing, clear to the end of the screen, draw again.
        if (terminal && drawn > 0) std::cout << "\x1b[" << drawn << "A\r\x1b[J";
        if (terminal || text != last) std::cout << text << std::flush;
        drawn = 0;
        for (const auto& l : lines) drawn += terminal_rows(l, width);
        last = std::move(text);
        const bool settled = std::all_of(statuses->begin(), statuses->end(), [](const auto& s) { return s.settled(); });
        if (!args.watch || settled) return kExitOk;
        std::this_thread::sleep_for(std::chrono::duration<double>(args.interval));
    }
}

}  // namespace lscgate::cli
