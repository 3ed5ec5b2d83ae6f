// The libpq wrappers against a real PostgreSQL cluster: error kinds of failed
// connections (and no password in any message), transactions, reconnect, and
// the typed getters.

#include "registry/sqlite_handles.h"
#include "pg_cluster.h"
#include "registry/postgresql/pq_conninfo.h"
#include "registry/postgresql/pq_handles.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace lscgate {
namespace {

using test::PgCluster;
using test::PgTestDatabase;

// A port on 127.0.0.1 that nobody listens on: bound (so nobody else takes it) but not listening.
class ClosedPort {
public:
    ClosedPort() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
            port_ = ntohs(addr.sin_port);
    }
    ~ClosedPort() { ::close(fd_); }
    ClosedPort(const ClosedPort&) = delete;
    ClosedPort& operator=(const ClosedPort&) = delete;
    int port() const { return port_; }

private:
    int fd_ = -1;
    int port_ = 0;
};

class PqHandlesTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto cluster = PgCluster::shared();
        ASSERT_TRUE(cluster.ok()) << cluster.message();
        cluster_ = *cluster;
        if (!cluster_->running()) {
            ASSERT_TRUE(cluster_->start().ok());
        }
        auto db = cluster_->create_database();
        ASSERT_TRUE(db.ok()) << db.message();
        db_ = *db;
        auto conn = PgConnection::connect(db_.issuer);
        ASSERT_TRUE(conn.ok()) << conn.message();
        conn_ = std::move(*conn);
        ASSERT_TRUE(conn_.exec("CREATE TABLE lscgate.t(id bigint PRIMARY KEY, name text UNIQUE)").ok());
    }

    std::int64_t count() {
        auto r = conn_.exec("SELECT count(*) FROM lscgate.t");
        EXPECT_TRUE(r.ok()) << r.message();
        return r ? r->int64(0, 0).value() : -1;
    }

    PgCluster* cluster_ = nullptr;
    PgTestDatabase db_;
    PgConnection conn_;
};

TEST(PqConnect, AnUnreachableServerIsUnavailable) {
    ClosedPort closed;
    ASSERT_GT(closed.port(), 0);
    auto conn = PgConnection::connect("host=127.0.0.1 port=" + std::to_string(closed.port()) +
                                      " user=lscgate_issuer password=Unreach4ble-pw dbname=x", 2);
    ASSERT_FALSE(conn.ok());
    EXPECT_EQ(conn.kind(), ErrorKind::Unavailable) << conn.message();
    EXPECT_EQ(conn.message().find("Unreach4ble-pw"), std::string::npos) << conn.message();
}

TEST_F(PqHandlesTest, AWrongPasswordIsConfigAndNeverShown) {
    const std::string uri = "postgresql://lscgate_issuer:Wr0ng-Secret-77@127.0.0.1:" +
                            std::to_string(cluster_->port()) + "/" + db_.name;
    auto conn = PgConnection::connect(uri);
    ASSERT_FALSE(conn.ok());
    EXPECT_EQ(conn.kind(), ErrorKind::Config) << conn.message();
    EXPECT_NE(conn.message().find("password authentication failed"), std::string::npos) << conn.message();
    EXPECT_EQ(conn.message().find("Wr0ng-Secret-77"), std::string::npos) << conn.message();

    auto kv = PgConnection::connect(cluster_->tcp_conninfo("lscgate_radius", "Wr0ng-Secret-88", db_.name));
    ASSERT_FALSE(kv.ok());
    EXPECT_EQ(kv.kind(), ErrorKind::Config) << kv.message();
    EXPECT_EQ(kv.message().find("Wr0ng-Secret-88"), std::string::npos) << kv.message();
}

TEST(PqConnect, AMalformedConninfoIsConfigAndItsPasswordIsRedacted) {
    // libpq quotes the word it could not parse: here, the password.
    for (const std::string& conninfo : {
             std::string("host=127.0.0.1 password S3cret-Word-1 dbname=radius"),
             std::string("host=127.0.0.1 password='S3cret-Word-1' dbname=radius bogus_option=1"),
             std::string("postgresql://u:S3cret-Word-1@127.0.0.1:5432/radius?bogus=S3cret-Word-1"),
             std::string("postgresql://u:S3cret%2DWord-1@127.0.0.1:5432/radius?bogus=S3cret-Word-1"),
             // Where no scan can tell it is the password: libpq quotes it as is.
             std::string("S3cret-Word-1 host=127.0.0.1 dbname=radius"),
             std::string("postgresql://u@[::1/radius?S3cret-Word-1"),
             std::string("postgresql://u@127.0.0.1/radius?S3cret-Word-1"),
         }) {
        auto conn = PgConnection::connect(conninfo);
        ASSERT_FALSE(conn.ok()) << conninfo;
        EXPECT_EQ(conn.kind(), ErrorKind::Config) << conn.message();
        EXPECT_EQ(conn.message().find("S3cret-Word-1"), std::string::npos) << conn.message();
        EXPECT_NE(conn.message().find("malformed"), std::string::npos) << conn.message();
    }
}

TEST(PqConnect, AMalformedConninfoStillNamesTheKeywordItStumbledOn) {
    auto conn = PgConnection::connect("host=127.0.0.1 dbname radius");
    ASSERT_FALSE(conn.ok());
    EXPECT_NE(conn.message().find("missing \"=\" after \"dbname\""), std::string::npos) << conn.message();
}

TEST(PqConnect, SecretsAreFoundWhereverTheConninfoCarriesThem) {
    EXPECT_EQ(redact_conninfo_secrets("a pw1 b", "user=x password=pw1"), "a *** b");
    EXPECT_EQ(redact_conninfo_secrets("x p w y", "password = 'p w'"), "x *** y");
    EXPECT_EQ(redact_conninfo_secrets("got s%40cret and s@cret", "postgresql://u:s%40cret@h/db"), "got *** and ***");
    EXPECT_EQ(redact_conninfo_secrets("q=abc", "postgres://h/db?sslmode=require&password=abc&x=1"), "q=***");
    EXPECT_EQ(redact_conninfo_secrets("nothing secret", "host=h dbname=d"), "nothing secret");
}

// The text as written and the value libpq uses are both secrets: an escaped password
// echoed back (reader prefix, database_for_display, the module's INFO line) is redacted.
TEST(PqConnect, EscapedPasswordsAreRedactedAsWrittenAndAsMeant) {
    EXPECT_EQ(redact_conninfo_secrets(R"(password='a\'b' / a'b)", R"(password='a\'b')"), "password='***' / ***");
    EXPECT_EQ(redact_conninfo_secrets(R"(password='a\\b' / a\b)", R"(password='a\\b')"), "password='***' / ***");
    EXPECT_EQ(redact_conninfo_secrets(R"(password=a\ b / a b)", R"(host=h password=a\ b)"), "password=*** / ***");
    EXPECT_EQ(redact_conninfo_secrets("postgresql://u:p%40ss@h/db and p@ss", "postgresql://u:p%40ss@h/db"),
              "postgresql://u:***@h/db and ***");
    EXPECT_EQ(redact_conninfo_secrets("q=p%40ss and p@ss", "postgresql://h/db?password=p%40ss"), "q=*** and ***");
}

TEST_F(PqHandlesTest, ServerErrorsCarrySqlstateAndKind) {
    ASSERT_TRUE(conn_.exec("INSERT INTO lscgate.t VALUES (1, 'a')").ok());
    auto dup = conn_.exec("INSERT INTO lscgate.t VALUES (2, 'a')");
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(conn_.last_sqlstate(), sqlstate::kUniqueViolation);
    EXPECT_EQ(dup.kind(), ErrorKind::Input);
    EXPECT_NE(dup.message().find("already exists"), std::string::npos) << dup.message();  // the detail
    EXPECT_NE(dup.message().find("23505"), std::string::npos) << dup.message();

    auto missing = conn_.exec("SELECT * FROM lscgate.nowhere");
    EXPECT_EQ(conn_.last_sqlstate(), sqlstate::kUndefinedTable);
    EXPECT_EQ(missing.kind(), ErrorKind::Config);

    ASSERT_TRUE(conn_.exec("SELECT 1").ok());
    EXPECT_EQ(conn_.last_sqlstate(), "");

    // A lock held elsewhere, with lock_timeout: 55P03, Unavailable.
    auto other = PgConnection::connect(db_.issuer);
    ASSERT_TRUE(other.ok());
    auto tx = other->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(other->exec("LOCK TABLE lscgate.t IN ACCESS EXCLUSIVE MODE").ok());
    ASSERT_TRUE(conn_.exec("SET lock_timeout = '50ms'").ok());
    auto blocked = conn_.exec("SELECT * FROM lscgate.t");
    EXPECT_EQ(conn_.last_sqlstate(), sqlstate::kLockNotAvailable) << blocked.message();
    EXPECT_EQ(blocked.kind(), ErrorKind::Unavailable);
}

TEST_F(PqHandlesTest, PreparedStatementsBindEveryValue) {
    ASSERT_TRUE(conn_.prepare("ins", "INSERT INTO lscgate.t VALUES ($1, $2)", 2).ok());
    ASSERT_TRUE(conn_.prepare("ins", "INSERT INTO lscgate.t VALUES ($1, $2)", 2).ok());  // again: a no-op
    EXPECT_FALSE(conn_.prepare("ins", "INSERT INTO lscgate.t VALUES ($1, 'x')", 1).ok());
    // A value that would break SQL text goes through unharmed.
    const std::string hostile = "x'); DROP TABLE lscgate.t; --";
    ASSERT_TRUE(conn_.exec_prepared("ins", {pg_param(std::int64_t{1}), pg_param(hostile)}).ok());
    ASSERT_TRUE(conn_.exec_prepared("ins", {pg_param(std::int64_t{2}), pg_param(std::nullopt)}).ok());
    EXPECT_FALSE(conn_.exec_prepared("ins", {pg_param(std::int64_t{3})}).ok());  // wrong count
    EXPECT_FALSE(conn_.exec_prepared("nope", {}).ok());

    auto r = conn_.exec_params("SELECT id, name, name IS NULL FROM lscgate.t WHERE id >= $1 ORDER BY id",
                               {pg_param(std::int64_t{1})});
    ASSERT_TRUE(r.ok()) << r.message();
    ASSERT_EQ(r->rows(), 2);
    EXPECT_EQ(*r->int64(0, 0), 1);
    EXPECT_EQ(r->text(0, 1), hostile);
    EXPECT_FALSE(*r->boolean(0, 2));
    EXPECT_TRUE(r->is_null(1, 1));
    EXPECT_EQ(r->optional_text(1, 1), std::nullopt);
    EXPECT_EQ(r->text(1, 1), "");
    EXPECT_FALSE(r->int64(0, 1).ok());  // text is no integer
    EXPECT_FALSE(r->int64(1, 1).ok());  // NULL is no integer
    EXPECT_EQ(*r->optional_int64(1, 1), std::nullopt);
    EXPECT_TRUE(r->is_null(5, 0));  // out of range reads as NULL

    auto del = conn_.exec("DELETE FROM lscgate.t");
    ASSERT_TRUE(del.ok());
    EXPECT_EQ(del->affected_rows(), 2);
}

TEST_F(PqHandlesTest, ATransactionNotCommittedRollsBack) {
    {
        auto tx = conn_.begin();
        ASSERT_TRUE(tx.ok()) << tx.message();
        ASSERT_TRUE(conn_.exec("INSERT INTO lscgate.t VALUES (1, 'a')").ok());
    }
    EXPECT_EQ(count(), 0);

    // Nested levels are savepoints: the inner one rolls back alone.
    {
        auto outer = conn_.begin("SERIALIZABLE");
        ASSERT_TRUE(outer.ok()) << outer.message();
        ASSERT_TRUE(conn_.exec("INSERT INTO lscgate.t VALUES (1, 'a')").ok());
        {
            auto inner = conn_.begin();
            ASSERT_TRUE(inner.ok()) << inner.message();
            EXPECT_EQ(inner->level(), 2);
            ASSERT_TRUE(conn_.exec("INSERT INTO lscgate.t VALUES (2, 'b')").ok());
        }
        auto inner_ok = conn_.begin();
        ASSERT_TRUE(inner_ok.ok());
        ASSERT_TRUE(conn_.exec("INSERT INTO lscgate.t VALUES (3, 'c')").ok());
        ASSERT_TRUE(inner_ok->commit().ok());
        ASSERT_TRUE(outer->commit().ok());
    }
    auto names = conn_.exec("SELECT string_agg(name, ',' ORDER BY id) FROM lscgate.t");
    ASSERT_TRUE(names.ok());
    EXPECT_EQ(names->text(0, 0), "a,c");

    // COMMIT after a failed statement is a failure, not a silent ROLLBACK.
    auto tx = conn_.begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(conn_.exec("INSERT INTO lscgate.t VALUES (4, 'd')").ok());
    EXPECT_FALSE(conn_.exec("INSERT INTO lscgate.t VALUES (4, 'dup')").ok());
    EXPECT_FALSE(tx->commit().ok());
    EXPECT_EQ(count(), 2);
    EXPECT_TRUE(conn_.begin().ok());  // the connection is usable again (and that level rolls back)
    EXPECT_FALSE(conn_.begin("READ UNCOMMITTED; DROP TABLE x").ok());
}

TEST_F(PqHandlesTest, AServerOutageIsUnavailableAndResetRecovers) {
    ASSERT_TRUE(conn_.prepare("count", "SELECT count(*) FROM lscgate.t WHERE id > $1", 1).ok());
    auto tx = conn_.begin();
    ASSERT_TRUE(tx.ok());

    ASSERT_TRUE(cluster_->stop().ok());
    auto down = conn_.exec_prepared("count", {pg_param(std::int64_t{0})});
    ASSERT_FALSE(down.ok());
    EXPECT_EQ(down.kind(), ErrorKind::Unavailable) << down.message();
    EXPECT_TRUE(sqlstate::is_connection_error(conn_.last_sqlstate())) << conn_.last_sqlstate();
    EXPECT_FALSE(conn_.ok());
    auto still_down = conn_.reset();
    EXPECT_EQ(still_down.kind(), ErrorKind::Unavailable) << still_down.message();
    EXPECT_EQ(still_down.message().find(test::kPgIssuerPassword), std::string::npos) << still_down.message();

    ASSERT_TRUE(cluster_->start().ok());
    auto back = conn_.reset();
    ASSERT_TRUE(back.ok()) << back.message();
    EXPECT_TRUE(conn_.ok());
    // The statement is prepared again on the new session by itself.
    auto r = conn_.exec_prepared("count", {pg_param(std::int64_t{0})});
    ASSERT_TRUE(r.ok()) << r.message();
    EXPECT_EQ(*r->int64(0, 0), 0);
    // The transaction of the old session is gone; committing it says so.
    auto gone = tx->commit();
    EXPECT_EQ(gone.kind(), ErrorKind::Unavailable) << gone.message();
    // And a new one starts at the outermost level.
    auto fresh = conn_.begin();
    ASSERT_TRUE(fresh.ok()) << fresh.message();
    EXPECT_EQ(fresh->level(), 1);
}

}  // namespace
}  // namespace lscgate
