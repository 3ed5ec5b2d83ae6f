#include "cli/cli_context.h"

#include <pwd.h>
#include <unistd.h>

namespace lscgate::cli {

Result<Store> CliContext::store() const {
    auto cfg = config();
    if (!cfg) return cfg.error();
    return Store::open(cfg->resolve(cfg->database).string());
}

int CliContext::error(const std::string& message) {
    std::cerr << "lscgate: " << message << std::endl;
    exit_code = kExitError;
    return kExitError;
}

std::string actor_name() {
    if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr) return std::string("cli:") + pw->pw_name;
    return "cli:uid" + std::to_string(::geteuid());
}

void report_duplicate_names(const std::vector<std::string>& duplicates) {
    for (const auto& name : duplicates) std::cerr << "lscgate: note: " << name << " was given more than once; acting on it once\n";
}

}  // namespace lscgate::cli
