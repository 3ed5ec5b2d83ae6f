#include "cli/cli_context.h"

#include <cstdlib>

#include <pwd.h>
#include <unistd.h>

namespace lscgate::cli {

Result<Config> CliContext::config() const {
    auto cfg = load_config(dir);
    if (!cfg) return cfg.error();
    if (auto s = apply_database_override(*cfg, database, std::getenv(kDatabaseEnvironment)); !s) return s.error();
    return cfg;
}

Result<Store> CliContext::store() const {
    auto cfg = config();
    if (!cfg) return cfg.error();
    const auto location = cfg->database_location();
    auto store = Store::open(location);
    // A backend's message may quote what it was given (e.g. "database … does not exist").
    if (!store) return without_database_secrets(store.error(), location);
    return store;
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

}  // namespace lscgate::cli
