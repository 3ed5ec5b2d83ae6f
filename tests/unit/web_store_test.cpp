// The registry calls of web administration (issue 14; registry/web_records.h)
// on both engines (ctest names end in /sqlite or /postgresql), the PostgreSQL
// one on a fresh database of a real throwaway cluster (pg_cluster.h), as the
// issuer: web accounts (audited add/passwd/remove, the sign-in lockout state),
// the device list read page by page on the name (forwards and backwards, a
// bound LIMIT), its filters, and the devices counted by LSC status.

#include "pg_cluster.h"
#include "registry/postgresql/pq_handles.h"
#include "registry/store.h"
#include "registry/web_records.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace lscgate {
namespace {

using test::TempDir;

class WebStore : public ::testing::TestWithParam<std::string> {
protected:
    TempDir dir;
    std::optional<test::PgTestDatabase> pg_db;
    std::string database = make_database();
    Store store = open_store(database);
    test::TestCa capf = test::make_root_ca("CN=CAPF-web,O=Example");
    CapfAuthority authority = test::authority_from(capf);
    UnixTime now = now_utc();

    std::string make_database() {
        if (GetParam() != "postgresql") return (dir / "lscgate.db").string();
        auto cluster = test::PgCluster::shared();
        if (!cluster) throw std::runtime_error("no PostgreSQL test cluster: " + cluster.message());
        auto db = (*cluster)->create_database();
        if (!db) throw std::runtime_error("no test database: " + db.message());
        pg_db = *db;
        return db->issuer;
    }
    static Store open_store(const std::string& database) {
        auto s = Store::open(database, Store::OpenMode::CreateAndMigrate);
        if (!s) throw std::runtime_error(s.message());
        return std::move(*s);
    }
    void add(const std::string& name, const std::string& model = "CP-8841", const std::string& description = "") {
        auto d = store.add_device(name, model, description, "test");
        ASSERT_TRUE(d) << d.message();
    }
    Operation schedule(const std::string& device, OperationKind kind = OperationKind::Install) {
        OperationRequest r;
        r.kind = kind;
        auto op = store.schedule_operation(device, r, "test");
        EXPECT_TRUE(op) << op.message();
        return *op;
    }
    // An active LSC valid for `days` more days.
    void give_lsc(const std::string& device, int days) {
        const Operation op = schedule(device);
        auto key = test::make_key("ec:p256");
        auto cert = authority.issue_lsc(device, key.get(), days);
        ASSERT_TRUE(cert) << cert.message();
        auto rec = store.commit_issued_lsc(op, cert->get());
        ASSERT_TRUE(rec) << rec.message();
    }
    std::vector<DeviceListRow> page(DevicePageQuery q) {
        std::vector<DeviceListRow> out;
        auto s = store.each_device_page(q, collect_into(out));
        EXPECT_TRUE(s) << s.message();
        return out;
    }
    static std::vector<std::string> names(const std::vector<DeviceListRow>& rows) {
        std::vector<std::string> out;
        for (const auto& r : rows) out.push_back(r.device.name);
        return out;
    }
    std::vector<AuditEvent> audit() {
        auto rows = store.list_audit(100);
        EXPECT_TRUE(rows) << rows.message();
        return rows ? *rows : std::vector<AuditEvent>{};
    }
};

std::string backend_name(const ::testing::TestParamInfo<std::string>& param) { return param.param; }

INSTANTIATE_TEST_SUITE_P(Backends, WebStore, ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         backend_name);

TEST_P(WebStore, AccountsAreAddedFoundChangedAndRemovedAudited) {
    ASSERT_TRUE(store.add_web_account("alice", WebRole::Admin, "$argon2id$v=19$first", "cli:root"));
    auto taken = store.add_web_account("alice", WebRole::Helpdesk, "$argon2id$v=19$other", "cli:root");
    ASSERT_FALSE(taken);
    EXPECT_EQ(taken.kind(), ErrorKind::Input);
    ASSERT_TRUE(store.add_web_account("bob", WebRole::Helpdesk, "$argon2id$v=19$bob", "cli:root"));

    auto alice = store.find_web_account("alice");
    ASSERT_TRUE(alice && alice->has_value());
    EXPECT_EQ((*alice)->role, WebRole::Admin);
    EXPECT_EQ((*alice)->password_hash, "$argon2id$v=19$first");
    EXPECT_EQ((*alice)->failed_logins, 0);
    EXPECT_FALSE((*alice)->locked_until);

    ASSERT_TRUE(store.set_web_login_state("alice", 3, now + 900));
    alice = store.find_web_account("alice");
    EXPECT_EQ((*alice)->failed_logins, 3);
    EXPECT_EQ((*alice)->locked_until, now + 900);
    // A new password lifts the lock.
    ASSERT_TRUE(store.set_web_account_password("alice", "$argon2id$v=19$second", "cli:root"));
    alice = store.find_web_account("alice");
    EXPECT_EQ((*alice)->password_hash, "$argon2id$v=19$second");
    EXPECT_EQ((*alice)->failed_logins, 0);
    EXPECT_FALSE((*alice)->locked_until);

    std::vector<WebAccount> all;
    ASSERT_TRUE(store.each_web_account(collect_into(all)));
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].name, "alice");
    EXPECT_EQ(all[1].name, "bob");

    ASSERT_TRUE(store.remove_web_account("bob", "cli:root"));
    EXPECT_EQ(store.remove_web_account("bob", "cli:root").kind(), ErrorKind::Input);
    EXPECT_EQ(store.set_web_account_password("bob", "x", "cli:root").kind(), ErrorKind::Input);
    EXPECT_FALSE(store.find_web_account("bob")->has_value());

    std::vector<std::string> actions;
    for (const auto& e : audit())
        if (e.action.rfind("web-account.", 0) == 0) actions.push_back(e.action + " " + e.detail);
    ASSERT_EQ(actions.size(), 4u);  // newest first
    EXPECT_EQ(actions[0], "web-account.remove account=bob");
    EXPECT_EQ(actions[1], "web-account.passwd account=alice");
    EXPECT_EQ(actions[2], "web-account.add account=bob role=helpdesk");
    EXPECT_EQ(actions[3], "web-account.add account=alice role=admin");
    // The hash never reaches the audit trail.
    for (const auto& e : audit()) EXPECT_EQ(e.detail.find("argon2"), std::string::npos) << e.detail;
}

TEST_P(WebStore, DevicePagesWalkTheNamesForwardsAndBackwards) {
    for (int i = 1; i <= 7; ++i) add("SEP00000000000" + std::to_string(i));
    DevicePageQuery q;
    q.limit = 3;
    auto first = page(q);
    EXPECT_EQ(names(first), (std::vector<std::string>{"SEP000000000001", "SEP000000000002", "SEP000000000003"}));
    q.after = first.back().device.name;
    auto second = page(q);
    EXPECT_EQ(names(second), (std::vector<std::string>{"SEP000000000004", "SEP000000000005", "SEP000000000006"}));
    q.after = second.back().device.name;
    EXPECT_EQ(names(page(q)), (std::vector<std::string>{"SEP000000000007"}));
    // Backwards from the last page's first name: the page before it, in name order.
    DevicePageQuery back;
    back.limit = 3;
    back.before = "SEP000000000007";
    EXPECT_EQ(names(page(back)), (std::vector<std::string>{"SEP000000000004", "SEP000000000005", "SEP000000000006"}));
    back.before = "SEP000000000002";
    EXPECT_EQ(names(page(back)), (std::vector<std::string>{"SEP000000000001"}));
    // The limit is clamped: never 0 rows, never more than kMaxDevicePageRows.
    DevicePageQuery zero;
    zero.limit = 0;
    EXPECT_EQ(page(zero).size(), 1u);
}

TEST_P(WebStore, DevicePageFiltersByNameModelStatusAndExpiry) {
    add("SEP0000000000A1", "CP-8841", "Lobby");
    add("SEP0000000000A2", "CP-7945", "Desk <b>2</b>");
    add("SEP0000000000B3", "CP-8841");
    add("SEP0000000000B4", "CP-8845");
    give_lsc("SEP0000000000A1", 365);
    give_lsc("SEP0000000000A2", 10);
    give_lsc("SEP0000000000B3", 365);
    ASSERT_TRUE(store.revoke_active_lsc("SEP0000000000B3", "key-compromise", "test"));
    schedule("SEP0000000000B4", OperationKind::Fetch);

    DevicePageQuery q;
    q.name_contains = "a";  // ASCII case ignored
    EXPECT_EQ(names(page(q)), (std::vector<std::string>{"SEP0000000000A1", "SEP0000000000A2"}));
    q = {};
    q.model_contains = "cp-884";
    EXPECT_EQ(names(page(q)), (std::vector<std::string>{"SEP0000000000A1", "SEP0000000000B3", "SEP0000000000B4"}));
    q = {};
    q.lsc = LscStatus::Active;
    EXPECT_EQ(names(page(q)), (std::vector<std::string>{"SEP0000000000A1", "SEP0000000000A2"}));
    q.expiring_before = now + 30 * 86400;
    EXPECT_EQ(names(page(q)), (std::vector<std::string>{"SEP0000000000A2"}));
    q = {};
    q.lsc = LscStatus::Revoked;
    EXPECT_EQ(names(page(q)), (std::vector<std::string>{"SEP0000000000B3"}));
    q = {};
    q.lsc = LscStatus::None;
    auto none = page(q);
    ASSERT_EQ(names(none), (std::vector<std::string>{"SEP0000000000B4"}));
    ASSERT_TRUE(none[0].open_kind);
    EXPECT_EQ(*none[0].open_kind, OperationKind::Fetch);
    EXPECT_EQ(*none[0].open_state, OperationState::Pending);

    auto all = page({});
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(all[0].lsc, LscStatus::Active);
    ASSERT_TRUE(all[0].lsc_not_after);
    EXPECT_GT(*all[0].lsc_not_after, now + 300 * 86400);
    EXPECT_FALSE(all[0].open_kind);  // the install succeeded
    EXPECT_EQ(all[1].device.description, "Desk <b>2</b>");  // stored as given: escaping is the page's job
    EXPECT_EQ(all[2].lsc, LscStatus::Revoked);
    EXPECT_FALSE(all[2].lsc_not_after);
}

TEST_P(WebStore, DevicesAreCountedByLscStatus) {
    for (const char* n : {"SEP0000000000C1", "SEP0000000000C2", "SEP0000000000C3", "SEP0000000000C4"}) add(n);
    give_lsc("SEP0000000000C1", 365);
    give_lsc("SEP0000000000C2", 5);
    give_lsc("SEP0000000000C3", 365);
    ASSERT_TRUE(store.revoke_active_lsc("SEP0000000000C3", "superseded", "test"));
    schedule("SEP0000000000C4");
    auto c = store.count_devices_by_lsc(now + 30 * 86400);
    ASSERT_TRUE(c) << c.message();
    EXPECT_EQ(c->devices, 4);
    EXPECT_EQ(c->active, 2);
    EXPECT_EQ(c->expiring, 1);
    EXPECT_EQ(c->revoked, 1);
    EXPECT_EQ(c->unconfirmed, 0);
    EXPECT_EQ(c->none, 1);
    EXPECT_EQ(c->open_operations, 1);
}

// PostgreSQL only: an SQLite registry has no roles.
class WebStoreOnPg : public WebStore {};
INSTANTIATE_TEST_SUITE_P(Backends, WebStoreOnPg, ::testing::Values(std::string("postgresql")), backend_name);

TEST_P(WebStoreOnPg, TheRadiusRoleCannotReadTheAccounts) {
    ASSERT_TRUE(pg_db.has_value());
    ASSERT_TRUE(store.add_web_account("alice", WebRole::Admin, "$argon2id$v=19$h", "test"));
    auto radius = PgConnection::connect(pg_db->radius);
    ASSERT_TRUE(radius) << radius.message();
    EXPECT_TRUE(radius->exec("SELECT count(*) FROM lscgate.certificates"));  // what it may read
    auto accounts = radius->exec("SELECT count(*) FROM lscgate.web_accounts");
    ASSERT_FALSE(accounts);
    EXPECT_EQ(radius->last_sqlstate(), sqlstate::kInsufficientPrivilege);
}

TEST_P(WebStore, AnEmptyRegistryCountsZero) {
    auto c = store.count_devices_by_lsc(now);
    ASSERT_TRUE(c) << c.message();
    EXPECT_EQ(c->devices, 0);
    EXPECT_EQ(c->none, 0);
    EXPECT_TRUE(page({}).empty());
}

}  // namespace
}  // namespace lscgate
