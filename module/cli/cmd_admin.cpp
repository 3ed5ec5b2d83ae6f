// `lscgate admin add|passwd|remove|list`: the accounts of the web pages
// (issue 14, module/web). Passwords are read from the terminal (twice, not
// echoed) or as one line of standard input, never from the command line (where
// ps(1) would show them), and stored only as Argon2id hashes.

#include "cli/commands.h"
#include "web/password_hash.h"

#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>

namespace lscgate::cli {
namespace {

// Turns terminal echo off for its lifetime (restored on every path).
class NoEcho {
public:
    NoEcho() : active_(::tcgetattr(STDIN_FILENO, &saved_) == 0) {
        if (!active_) return;
        termios quiet = saved_;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        active_ = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
    ~NoEcho() {
        if (active_) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
    }
    NoEcho(const NoEcho&) = delete;
    NoEcho& operator=(const NoEcho&) = delete;

private:
    termios saved_{};
    bool active_ = false;
};

Result<std::string> read_line(const std::string& prompt, bool terminal) {
    std::string line;
    if (terminal) {
        std::cerr << prompt << std::flush;
        NoEcho quiet;
        std::getline(std::cin, line);
        std::cerr << "\n";
    } else {
        std::getline(std::cin, line);
    }
    if (!std::cin && line.empty()) return fail(ErrorKind::Input, "no password given (standard input is empty)");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

// The new password, checked against the policy, hashed.
Result<std::string> new_password_hash(const std::string& account) {
    const bool terminal = ::isatty(STDIN_FILENO) == 1;
    auto first = read_line("Password for " + account + ": ", terminal);
    if (!first) return first.error();
    if (auto s = web::check_password_policy(*first); !s) return s.error();
    if (terminal) {
        auto again = read_line("Again: ", terminal);
        if (!again) return again.error();
        if (*again != *first) return fail(ErrorKind::Input, "the two passwords differ");
    }
    return web::hash_password(*first);
}

int run_add(CliContext& ctx, const std::string& name, const std::string& role_text) {
    if (auto s = check_web_account_name(name); !s) return ctx.error(s.message());
    auto role = parse_web_role(role_text);
    if (!role) return ctx.error(role.message());
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    if (auto known = store->find_web_account(name); !known || known->has_value())
        return ctx.error(known ? "web account " + name + " already exists (lscgate admin passwd " + name + ")"
                               : known.message());
    auto hash = new_password_hash(name);
    if (!hash) return ctx.error(hash.message());
    if (auto s = store->add_web_account(name, *role, *hash, actor_name()); !s) return ctx.error(s.message());
    std::cout << "added web account " << name << " (" << to_string(*role) << ")\n";
    return kExitOk;
}

int run_passwd(CliContext& ctx, const std::string& name) {
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    auto known = store->find_web_account(name);
    if (!known) return ctx.error(known.message());
    if (!known->has_value()) return ctx.error("no such web account: " + name + " (lscgate admin list)");
    auto hash = new_password_hash(name);
    if (!hash) return ctx.error(hash.message());
    if (auto s = store->set_web_account_password(name, *hash, actor_name()); !s) return ctx.error(s.message());
    std::cout << "password of " << name << " changed; its lockout is lifted and its sessions end\n";
    return kExitOk;
}

int run_remove(CliContext& ctx, const std::string& name) {
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    if (auto s = store->remove_web_account(name, actor_name()); !s) return ctx.error(s.message());
    std::cout << "removed web account " << name << "; its sessions end at their next request\n";
    return kExitOk;
}

int run_list(CliContext& ctx) {
    auto store = ctx.store();
    if (!store) return ctx.error(store.message());
    nlohmann::json out = nlohmann::json::array();
    const UnixTime now = now_utc();
    auto walked = store->each_web_account([&](const WebAccount& a) -> Status {
        const bool locked = a.locked_until && *a.locked_until > now;
        if (ctx.json)
            out.push_back({{"name", a.name},
                           {"role", std::string(to_string(a.role))},
                           {"locked_until", locked ? nlohmann::json(format_utc(*a.locked_until)) : nlohmann::json(nullptr)},
                           {"failed_logins", a.failed_logins},
                           {"created_at", format_utc(a.created_at)}});
        else
            std::cout << a.name << " " << to_string(a.role)
                      << (locked ? " locked until " + format_utc(*a.locked_until) : std::string()) << "\n";
        return {};
    });
    if (!walked) return ctx.error(walked.message());
    if (ctx.json) ctx.print_json(out);
    return kExitOk;
}

}  // namespace

void add_admin_command(CLI::App& app, CliContext& ctx) {
    auto* admin = app.add_subcommand("admin", "Accounts of the web pages (lscgate web): add, passwd, remove, list");
    admin->require_subcommand(1);
    auto name = std::make_shared<std::string>();
    auto role = std::make_shared<std::string>();

    auto* add = admin->add_subcommand("add", "Add an account; the password is read from the terminal or standard input");
    add->add_option("NAME", *name, "account name (A-Z a-z 0-9 . _ @ -)")->required();
    add->add_option("--role", *role, "admin (changes things) | helpdesk (reads, runs doctor)")
        ->required()
        ->check(CLI::IsMember({"admin", "helpdesk"}));
    add->callback([&ctx, name, role] { ctx.exit_code = run_add(ctx, *name, *role); });

    auto* passwd = admin->add_subcommand("passwd", "Set a new password (lifts a lockout, ends the account's sessions)");
    passwd->add_option("NAME", *name, "account name")->required();
    passwd->callback([&ctx, name] { ctx.exit_code = run_passwd(ctx, *name); });

    auto* remove = admin->add_subcommand("remove", "Remove an account (its sessions end at their next request)");
    remove->add_option("NAME", *name, "account name")->required();
    remove->callback([&ctx, name] { ctx.exit_code = run_remove(ctx, *name); });

    auto* list = admin->add_subcommand("list", "List the accounts, their roles and lockouts");
    list->add_flag("--json", ctx.json, "print as JSON");
    list->callback([&ctx] { ctx.exit_code = run_list(ctx); });
}

}  // namespace lscgate::cli
