// Which backend a database setting names (registry/database_kind.h).

#include "registry/database_kind.h"

#include <gtest/gtest.h>

namespace lscgate {
namespace {

TEST(DatabaseKind, LibpqUrisArePostgresql) {
    EXPECT_TRUE(is_postgresql_database("postgresql://lscgate_radius:pw@db.example:5432/radius"));
    EXPECT_TRUE(is_postgresql_database("postgres://db.example/radius?sslmode=verify-full"));
    EXPECT_TRUE(is_postgresql_database("postgresql://"));
    EXPECT_TRUE(is_postgresql_database("postgresql:///radius?host=/var/run/postgresql"));
}

TEST(DatabaseKind, KeywordValueConninfoIsPostgresql) {
    EXPECT_TRUE(is_postgresql_database("host=db.example dbname=radius user=lscgate_radius"));
    EXPECT_TRUE(is_postgresql_database("dbname=radius"));
    EXPECT_TRUE(is_postgresql_database("service=lscgate"));
    EXPECT_TRUE(is_postgresql_database("hostaddr=10.0.0.5 port=5432"));
    EXPECT_TRUE(is_postgresql_database("host = /var/run/postgresql  dbname = 'my radius'"));
    // A bare file name that is a valid conninfo counts as one (the documented rule).
    EXPECT_TRUE(is_postgresql_database("host=x.db"));
}

TEST(DatabaseKind, FilePathsAreSqlite) {
    EXPECT_FALSE(is_postgresql_database("lscgate.db"));
    EXPECT_FALSE(is_postgresql_database("/var/lib/lscgate/lscgate.db"));
    EXPECT_FALSE(is_postgresql_database("./lscgate.db"));
    EXPECT_FALSE(is_postgresql_database(""));
    // '=' in a directory or file name, no libpq keyword in front of it: a file.
    EXPECT_FALSE(is_postgresql_database("/srv/site=paris/lscgate.db"));
    EXPECT_FALSE(is_postgresql_database("lscgate=1.db"));
    EXPECT_FALSE(is_postgresql_database("./host=x.db"));  // the way to name such a file
    EXPECT_FALSE(is_postgresql_database("/srv/host=db/lscgate.db"));
    // Items that are not all keyword=value: a file.
    EXPECT_FALSE(is_postgresql_database("host=db.example registry.db"));
    EXPECT_FALSE(is_postgresql_database("hots=db.example"));
    // Not the URI prefix (libpq's are lower case and complete).
    EXPECT_FALSE(is_postgresql_database("postgresql:/db"));
    EXPECT_FALSE(is_postgresql_database("mysql://db.example/radius"));
    EXPECT_FALSE(is_postgresql_database(std::string_view("dbname=x\0y", 10)));
}

}  // namespace
}  // namespace lscgate
