#include "cli/doctor_report.h"

#include <algorithm>
#include <sstream>

namespace lscgate::cli::doctor {

const char* to_string(Severity s) {
    switch (s) {
        case Severity::Ok: return "ok";
        case Severity::Warn: return "warn";
        case Severity::Fail: return "fail";
    }
    return "fail";
}

int Report::exit_code() const {
    int code = 0;
    for (const auto& f : findings_) code = std::max(code, f.severity == Severity::Fail ? 2 : f.severity == Severity::Warn ? 1 : 0);
    return code;
}

nlohmann::json Report::to_json() const {
    nlohmann::json list = nlohmann::json::array();
    int counts[3] = {0, 0, 0};
    for (const auto& f : findings_) {
        ++counts[static_cast<int>(f.severity)];
        list.push_back({{"check", f.check}, {"severity", to_string(f.severity)}, {"symptom", f.symptom},
                        {"cause", f.cause}, {"fix", f.fix}});
    }
    return {{"findings", list},
            {"summary", {{"ok", counts[0]}, {"warn", counts[1]}, {"fail", counts[2]}}},
            {"exit_code", exit_code()}};
}

std::string Report::to_text() const {
    std::ostringstream out;
    int problems = 0;
    for (const auto& f : findings_) {
        if (f.severity == Severity::Ok) {
            out << "ok    " << f.check << ": " << f.cause << "\n";
            continue;
        }
        ++problems;
        out << (f.severity == Severity::Fail ? "FAIL  " : "WARN  ") << f.check << "\n"
            << "      symptom: " << f.symptom << "\n"
            << "      cause:   " << f.cause << "\n"
            << "      fix:     " << f.fix << "\n";
    }
    out << (problems == 0 ? "nothing wrong found" : std::to_string(problems) + " problem(s) found") << "\n";
    return out.str();
}

}  // namespace lscgate::cli::doctor
