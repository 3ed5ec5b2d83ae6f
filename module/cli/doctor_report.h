#pragma once

// `lscgate doctor`: findings, each said as the symptom a phone or a log shows
// (the words of Cisco's LSC troubleshooting section and of FreeRADIUS/OpenSSL),
// the cause found, and the fix. Exit code: 0 nothing wrong, 1 warnings, 2 failures.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace lscgate::cli::doctor {

enum class Severity { Ok, Warn, Fail };

/// "ok", "warn", "fail".
const char* to_string(Severity s);

struct Finding {
    std::string check;     ///< stable id, e.g. "itl.capf-missing", "serve.unreachable"
    Severity severity = Severity::Ok;
    std::string symptom;   ///< what the phone screen or a log says; "" for Ok
    std::string cause;     ///< what doctor found (for Ok: what was checked)
    std::string fix;       ///< what to do; "" for Ok
};

class Report {
public:
    void ok(std::string check, std::string what) { findings_.push_back({std::move(check), Severity::Ok, "", std::move(what), ""}); }
    void warn(std::string check, std::string symptom, std::string cause, std::string fix) {
        findings_.push_back({std::move(check), Severity::Warn, std::move(symptom), std::move(cause), std::move(fix)});
    }
    void fail(std::string check, std::string symptom, std::string cause, std::string fix) {
        findings_.push_back({std::move(check), Severity::Fail, std::move(symptom), std::move(cause), std::move(fix)});
    }
    const std::vector<Finding>& findings() const { return findings_; }
    /// 0 when every finding is Ok, 1 when the worst is Warn, 2 when one is Fail.
    int exit_code() const;
    nlohmann::json to_json() const;
    std::string to_text() const;

private:
    std::vector<Finding> findings_;
};

}  // namespace lscgate::cli::doctor
