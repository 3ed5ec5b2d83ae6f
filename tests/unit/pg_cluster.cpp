#include "registry/sqlite_handles.h"
#include "pg_cluster.h"

#include "registry/postgresql/pq_handles.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

namespace lscgate::test {
namespace fs = std::filesystem;

namespace {

// Who runs the server: `postgres` when we are root (the server refuses root), else us.
struct Owner {
    bool change = false;
    uid_t uid = 0;
    gid_t gid = 0;
};

Result<Owner> server_owner() {
    if (::geteuid() != 0) return Owner{};
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) return fail("running as root, but there is no 'postgres' user to run the server as");
    return Owner{true, pw->pw_uid, pw->pw_gid};
}

Status give_to(const fs::path& path, const Owner& owner) {
    if (owner.change && ::chown(path.c_str(), owner.uid, owner.gid) != 0)
        return fail("chown " + path.string() + " failed");
    return {};
}

fs::path tmp_base() {
    const char* env = std::getenv("LSCGATE_TEST_TMP");
    fs::path base = env != nullptr && *env != '\0' ? fs::path(env) : fs::temp_directory_path();
    std::error_code ec;
    fs::create_directories(base, ec);
    return base;
}

Result<fs::path> find_bin() {
    if (const char* env = std::getenv("LSCGATE_PG_BIN"); env != nullptr && *env != '\0') return fs::path(env);
    std::vector<fs::path> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec))
        if (fs::exists(entry.path() / "bin" / "initdb")) found.push_back(entry.path() / "bin");
    if (found.empty())
        return fail("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (run scripts/setup)");
    // Highest major version: compare numerically ("15" > "9.6").
    std::sort(found.begin(), found.end(), [](const fs::path& a, const fs::path& b) {
        return std::atof(a.parent_path().filename().c_str()) < std::atof(b.parent_path().filename().c_str());
    });
    return found.back();
}

// Starts argv[0] with stdout and stderr appended to `log`, as `owner`. Every
// string the child needs is built before fork(): between fork and exec only
// async-signal-safe calls run. `die_with_parent`: the child gets SIGQUIT
// (PostgreSQL's immediate shutdown) when this process dies.
Result<pid_t> spawn(const std::vector<std::string>& argv, const fs::path& log, const Owner& owner,
                    bool die_with_parent) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return fail("cannot open " + log.string());
    if (owner.change && ::fchown(fd, owner.uid, owner.gid) != 0) {
        ::close(fd);
        return fail("chown " + log.string() + " failed");
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fd);
        return fail("fork failed");
    }
    if (pid == 0) {
        ::dup2(fd, STDOUT_FILENO);
        ::dup2(fd, STDERR_FILENO);
        if (owner.change && (::setgroups(0, nullptr) != 0 || ::setgid(owner.gid) != 0 || ::setuid(owner.uid) != 0))
            ::_exit(126);
        // After setuid: a change of credentials clears the parent-death signal.
        if (die_with_parent && (::prctl(PR_SET_PDEATHSIG, SIGQUIT) != 0 || ::getppid() != parent)) ::_exit(125);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(fd);
    return pid;
}

Result<int> run(const std::vector<std::string>& argv, const fs::path& log, const Owner& owner) {
    auto pid = spawn(argv, log, owner, false);
    if (!pid) return pid.error();
    int status = 0;
    while (::waitpid(*pid, &status, 0) < 0)
        if (errno != EINTR) return fail("waitpid failed");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string tail_of(const fs::path& file) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    return text.size() > 1500 ? text.substr(text.size() - 1500) : text;
}

Result<int> free_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return fail("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int port = -1;
    if (::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
        port = ntohs(addr.sin_port);
    ::close(s);
    if (port <= 0) return fail("no free port on 127.0.0.1");
    return port;
}

struct FileDescriptor {
    explicit FileDescriptor(int descriptor) : fd(descriptor) {}
    int fd = -1;
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() {
        if (fd >= 0) ::close(fd);
    }
};

// The initdb output every test process copies, made once per build tree (a
// file lock serialises the processes ctest runs in parallel).
Result<fs::path> template_data(const fs::path& bin, const Owner& owner) {
    const fs::path base = tmp_base();
    std::string key = bin.string();
    std::replace(key.begin(), key.end(), '/', '_');
    const fs::path final_dir = base / ("pg-template-v1" + key);
    const FileDescriptor lock{::open((base / "pg-template.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)};
    if (lock.fd < 0) return fail("cannot open the template lock in " + base.string());
    if (::flock(lock.fd, LOCK_EX) != 0) return fail("cannot lock the PostgreSQL template");  // released by close
    if (fs::exists(final_dir / "data" / "PG_VERSION")) return final_dir / "data";
    const fs::path staging = base / ("pg-template.tmp" + std::to_string(::getpid()));
    std::error_code ec;
    fs::remove_all(staging, ec);
    fs::create_directories(staging, ec);
    if (auto s = give_to(staging, owner); !s) return s.error();
    auto rc = run({(bin / "initdb").string(), "-N", "-D", (staging / "data").string(), "-U", "postgres",
                   "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"},
                  staging / "initdb.log", owner);
    if (!rc || *rc != 0) return fail("initdb failed: " + tail_of(staging / "initdb.log"));
    fs::rename(staging, final_dir, ec);
    if (ec) return fail("cannot move the PostgreSQL template into place: " + ec.message());
    return final_dir / "data";
}

std::unique_ptr<PgCluster> g_shared;  // NOLINT: one per test binary

// Stops the cluster after the last test (a normal exit); see PR_SET_PDEATHSIG for the others.
class PgClusterEnvironment : public ::testing::Environment {
public:
    void TearDown() override { PgCluster::shutdown_shared(); }
};

// gtest takes ownership of the environment (its API is a raw pointer).
[[maybe_unused]] ::testing::Environment* const g_environment =
    ::testing::AddGlobalTestEnvironment(new PgClusterEnvironment);

}  // namespace

Result<PgCluster*> PgCluster::shared() {
    if (!g_shared) {
        std::unique_ptr<PgCluster> cluster(new PgCluster());
        if (auto s = cluster->init(); !s) return s.error();
        g_shared = std::move(cluster);
    }
    return g_shared.get();
}

void PgCluster::shutdown_shared() { g_shared.reset(); }

Status PgCluster::init() {
    auto bin = find_bin();
    if (!bin) return bin.error();
    bin_ = *bin;
    auto owner = server_owner();
    if (!owner) return owner.error();
    auto data = template_data(bin_, *owner);
    if (!data) return data.error();
    std::string pattern = (tmp_base() / "pg-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return fail("mkdtemp failed in " + tmp_base().string());
    root_ = pattern;
    if (auto s = give_to(root_, *owner); !s) return s;
    // The Unix socket's path must fit sockaddr_un (107 bytes): never under a
    // temporary directory that may be deep (a CI checkout's build tree).
    std::string sockets = "/tmp/lscgate-pgsock.XXXXXX";
    if (::mkdtemp(sockets.data()) == nullptr) return fail("mkdtemp failed in /tmp");
    socket_dir_ = sockets;
    if (auto s = give_to(socket_dir_, *owner); !s) return s;
    // cp -a keeps the owner (postgres) and the 0700 mode the server insists on.
    auto rc = run({"/bin/cp", "-a", data->string(), (root_ / "data").string()}, root_ / "cp.log", Owner{});
    if (!rc || *rc != 0) return fail("copying the PostgreSQL template failed: " + tail_of(root_ / "cp.log"));
    for (int attempt = 0; attempt < 3; ++attempt) {
        auto port = free_port();
        if (!port) return port.error();
        port_ = *port;
        if (auto s = launch(); s) return {};
    }
    return fail("PostgreSQL did not start (3 ports tried): " + tail_of(root_ / "postgresql.log"));
}

Status PgCluster::launch() {
    auto owner = server_owner();
    if (!owner) return owner.error();
    auto pid = spawn({(bin_ / "postgres").string(), "-D", (root_ / "data").string(), "-k", socket_dir_.string(), "-h",
                      "127.0.0.1", "-p", std::to_string(port_), "-c", "fsync=off", "-c", "synchronous_commit=off",
                      "-c", "full_page_writes=off"},
                     root_ / "postgresql.log", *owner, true);
    if (!pid) return pid.error();
    pid_ = *pid;
    const std::string ping = superuser_conninfo() + " connect_timeout=2";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (PQping(ping.c_str()) != PQPING_OK) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: the port was taken meanwhile, or worse
            pid_ = 0;
            return fail("PostgreSQL exited at start: " + tail_of(root_ / "postgresql.log"));
        }
        if (std::chrono::steady_clock::now() > deadline) {
            (void)stop();
            return fail("PostgreSQL did not accept connections within 60 s: " + tail_of(root_ / "postgresql.log"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // poll interval, not a wait for an event
    }
    return {};
}

Status PgCluster::stop() {
    if (pid_ <= 0) return {};
    ::kill(pid_, SIGINT);  // fast shutdown: open transactions roll back, clients are disconnected
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) != pid_) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid_, SIGQUIT);  // immediate shutdown, then make sure
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            pid_ = 0;
            return fail("PostgreSQL did not stop within 60 s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = 0;
    return {};
}

Status PgCluster::start() {
    if (pid_ > 0) return {};
    return launch();
}

PgCluster::~PgCluster() {
    (void)stop();
    std::error_code ec;
    if (!root_.empty()) fs::remove_all(root_, ec);
    if (!socket_dir_.empty()) fs::remove_all(socket_dir_, ec);
}

std::string PgCluster::superuser_conninfo(const std::string& database) const {
    return "host=" + socket_dir_.string() + " port=" + std::to_string(port_) + " user=postgres dbname=" + database;
}

std::string PgCluster::tcp_conninfo(const std::string& role, const std::string& password,
                                    const std::string& database) const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + role + " password=" + password +
           " dbname=" + database;
}

Result<PgTestDatabase> PgCluster::create_database() {
    PgTestDatabase db;
    db.name = "lscgate_t" + std::to_string(++databases_);
    auto admin = PgConnection::connect(superuser_conninfo());
    if (!admin) return admin.error();
    if (auto r = admin->exec("CREATE DATABASE " + db.name); !r) return r.error();
    db.superuser = superuser_conninfo(db.name);
    if (auto s = run_setup_sql(db); !s) return s.error();
    db.issuer = tcp_conninfo("lscgate_issuer", kPgIssuerPassword, db.name);
    db.radius = tcp_conninfo("lscgate_radius", kPgRadiusPassword, db.name);
    return db;
}

Status PgCluster::run_setup_sql(const PgTestDatabase& db) {
    const fs::path setup = fs::path(LSCGATE_SOURCE_DIR) / "policy" / "postgresql" / "setup.sql";
    const fs::path log = root_ / ("psql-" + db.name + ".log");
    auto rc = run({psql().string(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v",
                   std::string("issuer_password=") + kPgIssuerPassword, "-v",
                   std::string("radius_password=") + kPgRadiusPassword, "-d", db.superuser, "-f", setup.string()},
                  log, Owner{});
    if (!rc || *rc != 0) return fail("setup.sql failed in " + db.name + ": " + tail_of(log));
    return {};
}

}  // namespace lscgate::test
