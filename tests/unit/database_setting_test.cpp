// The database setting: a file path is resolved against the config directory,
// a PostgreSQL URI/conninfo never is; --database > LSCGATE_DATABASE >
// [store] database > "lscgate.db"; a malformed conninfo is a config error that
// does not show the password; a new lscgate.toml can name any setting.

#include "registry/config.h"
#include "registry/database_setting.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace lscgate;

namespace {

class DatabaseSetting : public ::testing::Test {
protected:
    test::TempDir dir;
    Result<Config> load_with(const std::string& database_line) {
        std::ofstream(dir / "lscgate.toml") << "[store]\n" << database_line << "\n";
        return load_config(dir.path());
    }
};

TEST_F(DatabaseSetting, AFilePathIsResolvedAgainstTheConfigDirectory) {
    auto cfg = load_with("database = \"data/registry.db\"");
    ASSERT_TRUE(cfg.ok()) << cfg.message();
    EXPECT_EQ(cfg->database_location(), (dir / "data/registry.db").string());
    auto absolute = load_with("database = \"/srv/lscgate/r.db\"");
    ASSERT_TRUE(absolute.ok());
    EXPECT_EQ(absolute->database_location(), "/srv/lscgate/r.db");
    // No [store] database at all: lscgate.db beside lscgate.toml.
    std::ofstream(dir / "lscgate.toml") << "[server]\n";
    auto defaults = load_config(dir.path());
    ASSERT_TRUE(defaults.ok());
    EXPECT_EQ(defaults->database_location(), (dir / "lscgate.db").string());
}

TEST_F(DatabaseSetting, AConninfoIsNeverPathResolved) {
    for (const std::string conninfo : {"host=db.example.net dbname=radius user=lscgate_issuer",
                                       "postgresql://lscgate_issuer@db.example.net:5433/radius?sslmode=verify-full",
                                       "postgres:///radius", "service=lscgate"}) {
        auto cfg = load_with("database = '" + conninfo + "'");
        ASSERT_TRUE(cfg.ok()) << conninfo << ": " << cfg.message();
        EXPECT_EQ(cfg->database_location(), conninfo);
        EXPECT_EQ(resolve_database(dir.path(), conninfo), conninfo);
    }
    // A relative file whose name merely contains '=' is still a file.
    EXPECT_EQ(resolve_database(dir.path(), "lscgate=1.db"), (dir / "lscgate=1.db").string());
}

TEST_F(DatabaseSetting, OptionBeatsEnvironmentBeatsTomlBeatsDefault) {
    auto cfg = load_with("database = \"toml.db\"");
    ASSERT_TRUE(cfg.ok());
    Config c = *cfg;
    ASSERT_TRUE(apply_database_override(c, std::nullopt, nullptr));
    EXPECT_EQ(c.database, "toml.db");
    EXPECT_EQ(c.database_origin, "[store] database");
    c = *cfg;
    ASSERT_TRUE(apply_database_override(c, std::nullopt, ""));  // set but empty: unset
    EXPECT_EQ(c.database, "toml.db");
    c = *cfg;
    ASSERT_TRUE(apply_database_override(c, std::nullopt, "host=envhost dbname=radius"));
    EXPECT_EQ(c.database, "host=envhost dbname=radius");
    EXPECT_EQ(c.database_origin, "LSCGATE_DATABASE");
    EXPECT_EQ(c.database_location(), "host=envhost dbname=radius");
    c = *cfg;
    ASSERT_TRUE(apply_database_override(c, std::string("option.db"), "host=envhost dbname=radius"));
    EXPECT_EQ(c.database, "option.db");
    EXPECT_EQ(c.database_origin, "--database");
    EXPECT_EQ(c.database_location(), (dir / "option.db").string());
    Config d;
    ASSERT_TRUE(apply_database_override(d, std::nullopt, nullptr));
    EXPECT_EQ(d.database, "lscgate.db");
}

TEST_F(DatabaseSetting, AMalformedConninfoIsAConfigErrorWithoutThePassword) {
    Config c;
    auto bad_env = apply_database_override(c, std::nullopt, "host=db password=Secr3tPw dbname");
    ASSERT_FALSE(bad_env.ok());
    EXPECT_EQ(bad_env.kind(), ErrorKind::Config);
    EXPECT_EQ(bad_env.message().rfind("LSCGATE_DATABASE", 0), 0u) << bad_env.message();
    EXPECT_EQ(bad_env.message().find("Secr3tPw"), std::string::npos) << bad_env.message();

    auto bad_uri = load_with("database = 'postgresql://u:Secr3tPw@[::1/radius'");
    ASSERT_FALSE(bad_uri.ok());
    EXPECT_EQ(bad_uri.kind(), ErrorKind::Config);
    EXPECT_NE(bad_uri.message().find("[store] database"), std::string::npos) << bad_uri.message();
    EXPECT_EQ(bad_uri.message().find("Secr3tPw"), std::string::npos) << bad_uri.message();

    auto empty = apply_database_override(c, std::string(""), nullptr);
    ASSERT_FALSE(empty.ok());
    EXPECT_NE(empty.message().find("--database is empty"), std::string::npos) << empty.message();
}

TEST_F(DatabaseSetting, PrintedFormsHideThePassword) {
    EXPECT_EQ(database_for_display("postgresql://issuer:Secr3tPw@db/radius"), "postgresql://issuer:***@db/radius");
    EXPECT_EQ(database_for_display("host=db password=Secr3tPw dbname=radius").find("Secr3tPw"), std::string::npos);
    EXPECT_EQ(database_for_display("/var/lib/lscgate/lscgate.db"), "/var/lib/lscgate/lscgate.db");
    auto e = without_database_secrets(fail("database postgresql://issuer:Secr3tPw@db/radius does not exist"),
                                      "postgresql://issuer:Secr3tPw@db/radius");
    EXPECT_EQ(e.message.find("Secr3tPw"), std::string::npos) << e.message;
}

TEST_F(DatabaseSetting, ANewConfigNamesTheGivenDatabaseAsTomlString) {
    const std::string tricky = "host=db dbname='a b' options='-c x=\\'y\\''";
    std::ofstream(dir / "lscgate.toml") << default_config_text(tricky);
    auto cfg = load_config(dir.path());
    ASSERT_TRUE(cfg.ok()) << cfg.message();
    EXPECT_EQ(cfg->database, tricky);
    std::ofstream(dir / "lscgate.toml") << default_config_text();
    auto plain = load_config(dir.path());
    ASSERT_TRUE(plain.ok()) << plain.message();
    EXPECT_EQ(plain->database, "lscgate.db");
}

}  // namespace
