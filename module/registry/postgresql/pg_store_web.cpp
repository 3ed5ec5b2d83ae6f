// PgStore: web administration (issue 14) — the paged device list and its status
// counts, and the web accounts. Same semantics as sqlite_store_web.cpp.

#include "registry/postgresql/pg_store.h"

#include "registry/postgresql/pg_store_rows.h"

namespace lscgate {
namespace {

// The devices with what a list row shows. PostgreSQL pulls this subquery up
// into the outer query, so ORDER BY name LIMIT walks the name index and stops
// after the page; the certificate subqueries use certificates_device, the open
// operation's the partial unique index operations_one_open.
constexpr const char* kPgDevicePageFrom =
    " FROM (SELECT d.id, d.name, d.model, d.description, d.security_profile, d.auth_failures, d.locked_until, "
    "d.created_at, d.updated_at, "
    "(SELECT max(c.not_after) FROM lscgate.certificates c WHERE c.device_name = d.name AND c.status = 'active' "
    " AND c.kind = 'lsc') AS active_until, "
    "EXISTS(SELECT 1 FROM lscgate.certificates c WHERE c.device_name = d.name AND c.status = 'unconfirmed' "
    " AND c.kind = 'lsc') AS unconfirmed, "
    "EXISTS(SELECT 1 FROM lscgate.certificates c WHERE c.device_name = d.name AND c.status = 'revoked' "
    " AND c.kind = 'lsc') AS revoked, "
    "(SELECT o.kind || ' ' || o.state FROM lscgate.operations o WHERE o.device_id = d.id "
    " AND o.state IN ('pending','in-progress')) AS open_operation "
    "FROM lscgate.devices d "
    "WHERE d.name @CMP@ $1 AND ($2 = '' OR strpos(lower(d.name), lower($2)) > 0) "
    " AND ($3 = '' OR strpos(lower(d.model), lower($3)) > 0)) x "
    "WHERE ($4 = '' OR $4 = CASE WHEN active_until IS NOT NULL THEN 'active' WHEN unconfirmed THEN 'unconfirmed' "
    "                          WHEN revoked THEN 'revoked' ELSE 'none' END) "
    " AND ($5::bigint IS NULL OR active_until < to_timestamp($5::bigint)) ";

std::string device_page_sql(bool backwards) {
    std::string from = kPgDevicePageFrom;
    from.replace(from.find("@CMP@"), 5, backwards ? "<" : ">");
    return std::string("SELECT ") + kPgDeviceColumns + ", " + pg_epoch("active_until") +
           ", unconfirmed, revoked, open_operation" + from + "ORDER BY name " + (backwards ? "DESC " : "") +
           "LIMIT $6::bigint";
}

Result<DeviceListRow> read_pg_device_row(const PgResult& r, int i) {
    DeviceListRow row;
    auto device = read_pg_device(r, i);
    if (!device) return device.error();
    row.device = std::move(*device);
    auto until = r.optional_int64(i, 9);
    auto unconfirmed = r.boolean(i, 10);
    auto revoked = r.boolean(i, 11);
    if (!until || !unconfirmed || !revoked) return fail("corrupt device list row " + row.device.name);
    row.lsc_not_after = *until;
    row.lsc = *until ? LscStatus::Active
                     : *unconfirmed ? LscStatus::Unconfirmed : *revoked ? LscStatus::Revoked : LscStatus::None;
    if (!r.is_null(i, 12)) {
        // "install pending": the open operation's kind and state (operations_one_open).
        const std::string open = r.text(i, 12);
        const auto space = open.find(' ');
        auto kind = parse_operation_kind(open.substr(0, space));
        auto state = parse_operation_state(space == std::string::npos ? "" : open.substr(space + 1));
        if (!kind || !state) return fail("corrupt open operation of device " + row.device.name);
        row.open_kind = *kind;
        row.open_state = *state;
    }
    return row;
}

const std::string& account_columns() {
    static const std::string columns = "id, name, role, password_hash, failed_logins, " + pg_epoch("locked_until") +
                                       ", " + pg_epoch("created_at") + ", " + pg_epoch("updated_at");
    return columns;
}

Result<WebAccount> read_pg_account(const PgResult& r, int i) {
    WebAccount a;
    auto id = r.int64(i, 0);
    auto failed = r.int64(i, 4);
    auto locked = r.optional_int64(i, 5);
    auto created = r.int64(i, 6);
    auto updated = r.int64(i, 7);
    auto role = parse_web_role(r.text(i, 2));
    if (!id || !failed || !locked || !created || !updated || !role) return fail("corrupt web account row");
    a.id = *id;
    a.name = r.text(i, 1);
    a.role = *role;
    a.password_hash = r.text(i, 3);
    a.failed_logins = static_cast<int>(*failed);
    a.locked_until = *locked;
    a.created_at = *created;
    a.updated_at = *updated;
    return a;
}

}  // namespace

Status PgStore::each_device_page(const DevicePageQuery& query, const RowFn<DeviceListRow>& row) {
    const bool backwards = !query.before.empty();
    static const std::string forward = device_page_sql(false);
    static const std::string backward = device_page_sql(true);
    const std::string lsc = query.lsc ? std::string(to_string(*query.lsc)) : std::string();
    auto r = run(backwards ? "device_page_back" : "device_page", backwards ? backward : forward,
                 {pg_param(backwards ? query.before : query.after), pg_param(query.name_contains),
                  pg_param(query.model_contains), pg_param(lsc), pg_param(query.expiring_before),
                  pg_param(query.limit)});
    if (!r) return r.error();
    for (int i = 0; i < r->rows(); ++i) {
        auto item = read_pg_device_row(*r, i);
        if (!item) return item.error();
        if (auto s = row(*item); !s) return s;
    }
    return {};
}

Result<LscStatusCounts> PgStore::count_devices_by_lsc(UnixTime expiring_before) {
    // One pass over the certificates grouped by device, joined to the devices
    // (as sqlite_store_web.cpp), rather than three subqueries per device.
    auto r = run("device_lsc_counts",
                 "SELECT count(*), count(*) FILTER (WHERE c.active_until IS NOT NULL), "
                 "count(*) FILTER (WHERE c.active_until IS NULL AND coalesce(c.unconfirmed, false)), "
                 "count(*) FILTER (WHERE c.active_until IS NULL AND NOT coalesce(c.unconfirmed, false) "
                 " AND coalesce(c.revoked, false)), "
                 "count(*) FILTER (WHERE c.active_until IS NULL AND NOT coalesce(c.unconfirmed, false) "
                 " AND NOT coalesce(c.revoked, false)), "
                 "count(*) FILTER (WHERE c.active_until < to_timestamp($1::bigint)), "
                 "(SELECT count(*) FROM lscgate.operations WHERE state IN ('pending','in-progress')) "
                 "FROM lscgate.devices d LEFT JOIN (SELECT device_name, "
                 "max(not_after) FILTER (WHERE status = 'active') AS active_until, "
                 "bool_or(status = 'unconfirmed') AS unconfirmed, bool_or(status = 'revoked') AS revoked "
                 "FROM lscgate.certificates WHERE kind = 'lsc' GROUP BY device_name) c ON c.device_name = d.name",
                 {pg_param(expiring_before)});
    if (!r) return r.error();
    LscStatusCounts out;
    std::int64_t* fields[] = {&out.devices, &out.active,   &out.unconfirmed,    &out.revoked,
                              &out.none,    &out.expiring, &out.open_operations};
    for (int col = 0; col < 7; ++col) {
        auto v = r->int64(0, col);
        if (!v) return v.error();
        *fields[col] = *v;
    }
    return out;
}

Status PgStore::add_web_account(const std::string& name, WebRole role, const std::string& password_hash,
                                const std::string& actor) {
    return write([&]() -> Status {
        // ON CONFLICT: a name taken meanwhile is "already exists", not an error
        // that aborts the caller's transaction.
        const auto now = now_utc();
        auto r = run("web_account_add",
                     "INSERT INTO lscgate.web_accounts(name, role, password_hash, created_at, updated_at) "
                     "VALUES($1, $2, $3, to_timestamp($4::bigint), to_timestamp($4::bigint)) "
                     "ON CONFLICT (name) DO NOTHING RETURNING id",
                     {pg_param(name), pg_param(to_string(role)), pg_param(password_hash), pg_param(now)});
        if (!r) return r.error();
        if (r->rows() == 0) return fail(ErrorKind::Input, "web account " + name + " already exists");
        return insert_audit(actor, "web-account.add", "", "account=" + name + " role=" + std::string(to_string(role)));
    });
}

Result<std::optional<WebAccount>> PgStore::find_web_account(const std::string& name) {
    auto r = run("web_account_find", "SELECT " + account_columns() + " FROM lscgate.web_accounts WHERE name = $1",
                 {pg_param(name)});
    if (!r) return r.error();
    if (r->rows() == 0) return std::optional<WebAccount>{};
    auto a = read_pg_account(*r, 0);
    if (!a) return a.error();
    return std::optional<WebAccount>{std::move(*a)};
}

Status PgStore::each_web_account(const RowFn<WebAccount>& row) {
    auto r = run("web_account_list", "SELECT " + account_columns() + " FROM lscgate.web_accounts ORDER BY name", {});
    if (!r) return r.error();
    for (int i = 0; i < r->rows(); ++i) {
        auto a = read_pg_account(*r, i);
        if (!a) return a.error();
        if (auto s = row(*a); !s) return s;
    }
    return {};
}

Status PgStore::set_web_account_password(const std::string& name, const std::string& password_hash,
                                         const std::string& actor) {
    return write([&]() -> Status {
        auto r = run("web_account_passwd",
                     "UPDATE lscgate.web_accounts SET password_hash = $1, failed_logins = 0, locked_until = NULL, "
                     "updated_at = to_timestamp($2::bigint) WHERE name = $3",
                     {pg_param(password_hash), pg_param(now_utc()), pg_param(name)});
        if (!r) return r.error();
        if (r->affected_rows() == 0) return fail(ErrorKind::Input, "no such web account: " + name);
        return insert_audit(actor, "web-account.passwd", "", "account=" + name);
    });
}

Status PgStore::remove_web_account(const std::string& name, const std::string& actor) {
    return write([&]() -> Status {
        auto r = run("web_account_remove", "DELETE FROM lscgate.web_accounts WHERE name = $1", {pg_param(name)});
        if (!r) return r.error();
        if (r->affected_rows() == 0) return fail(ErrorKind::Input, "no such web account: " + name);
        return insert_audit(actor, "web-account.remove", "", "account=" + name);
    });
}

Status PgStore::set_web_login_state(const std::string& name, int failed_logins, std::optional<UnixTime> locked_until) {
    return write([&]() -> Status {
        auto r = run("web_account_login_state",
                     "UPDATE lscgate.web_accounts SET failed_logins = $1, locked_until = to_timestamp($2::bigint), "
                     "updated_at = to_timestamp($3::bigint) WHERE name = $4",
                     {pg_param(failed_logins), pg_param(locked_until), pg_param(now_utc()), pg_param(name)});
        if (!r) return r.error();
        if (r->affected_rows() == 0) return fail(ErrorKind::Input, "no such web account: " + name);
        return {};
    });
}

}  // namespace lscgate
