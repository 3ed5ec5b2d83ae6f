// The SQLite backend's web administration calls (issue 14): the paged device
// list and its status counts, and the web accounts.

#include "registry/sqlite_store.h"

namespace lscgate {
namespace {

// A device and what its list row shows. The three certificate subqueries use the
// index certificates_device(device_name, status); the open operation ("install
// pending") the partial unique index operations_one_open, which its WHERE
// implies (a LEFT JOIN's ON clause would not let SQLite use a partial index, and
// operations has no other index on device_id). SQLite resolves the aliases active_until,
// unconfirmed and revoked in WHERE to these expressions (an SQLite extension), so
// the status filter needs no subquery in FROM that could be materialised whole.
constexpr const char* kDevicePageSelect =
    "SELECT d.id, d.name, d.model, d.description, d.security_profile, d.auth_failures, d.locked_until, "
    "d.created_at, d.updated_at, "
    "(SELECT max(c.not_after) FROM certificates c WHERE c.device_name = d.name AND c.status = 'active' "
    " AND c.kind = 'lsc') AS active_until, "
    "EXISTS(SELECT 1 FROM certificates c WHERE c.device_name = d.name AND c.status = 'unconfirmed' "
    " AND c.kind = 'lsc') AS unconfirmed, "
    "EXISTS(SELECT 1 FROM certificates c WHERE c.device_name = d.name AND c.status = 'revoked' "
    " AND c.kind = 'lsc') AS revoked, "
    "(SELECT o.kind || ' ' || o.state FROM operations o WHERE o.device_id = d.id "
    " AND o.state IN ('pending','in-progress')) AS open_operation "
    "FROM devices d ";

// The filters, every one bound (an empty text or NULL disables it), so each
// direction is one cached statement.
constexpr const char* kDevicePageFilter =
    " AND (?2 = '' OR instr(lower(d.name), lower(?2)) > 0)"
    " AND (?3 = '' OR instr(lower(d.model), lower(?3)) > 0)"
    " AND (?4 = '' OR ?4 = CASE WHEN active_until IS NOT NULL THEN 'active' WHEN unconfirmed THEN 'unconfirmed'"
    "                           WHEN revoked THEN 'revoked' ELSE 'none' END)"
    " AND (?5 IS NULL OR active_until < ?5)";

// "install pending": the open operation's kind and state, as the query joins them.
Status read_open_operation(const std::string& text, DeviceListRow& r) {
    const auto space = text.find(' ');
    auto kind = parse_operation_kind(text.substr(0, space));
    auto state = parse_operation_state(space == std::string::npos ? "" : text.substr(space + 1));
    if (!kind || !state) return fail("corrupt open operation");
    r.open_kind = *kind;
    r.open_state = *state;
    return {};
}

LscStatus status_of(bool active, bool unconfirmed, bool revoked) {
    if (active) return LscStatus::Active;
    if (unconfirmed) return LscStatus::Unconfirmed;
    if (revoked) return LscStatus::Revoked;
    return LscStatus::None;
}

Result<DeviceListRow> read_device_row(const SqliteStatement& st) {
    DeviceListRow r;
    Device& d = r.device;
    d.id = st.column_int(0);
    d.name = st.column_text(1);
    d.model = st.column_text(2);
    d.description = st.column_text(3);
    d.security_profile = st.column_text(4);
    d.auth_failures = static_cast<int>(st.column_int(5));
    d.locked_until = st.column_optional_int(6);
    d.created_at = st.column_int(7);
    d.updated_at = st.column_int(8);
    r.lsc_not_after = st.column_optional_int(9);
    r.lsc = status_of(r.lsc_not_after.has_value(), st.column_int(10) != 0, st.column_int(11) != 0);
    if (auto open = st.column_optional_text(12)) {
        if (auto s = read_open_operation(*open, r); !s) return fail(s.message() + " of device " + d.name);
    }
    return r;
}

constexpr const char* kAccountColumns =
    "id, name, role, password_hash, failed_logins, locked_until, created_at, updated_at";

Result<WebAccount> read_account(const SqliteStatement& st) {
    WebAccount a;
    a.id = st.column_int(0);
    a.name = st.column_text(1);
    auto role = parse_web_role(st.column_text(2));
    if (!role) return fail("corrupt role of web account " + a.name);
    a.role = *role;
    a.password_hash = st.column_text(3);
    a.failed_logins = static_cast<int>(st.column_int(4));
    a.locked_until = st.column_optional_int(5);
    a.created_at = st.column_int(6);
    a.updated_at = st.column_int(7);
    return a;
}

}  // namespace

Status SqliteStore::each_device_page(const DevicePageQuery& query, const RowFn<DeviceListRow>& row) {
    const bool backwards = !query.before.empty();
    static const std::string forward =
        std::string(kDevicePageSelect) + "WHERE d.name > ?1" + kDevicePageFilter + " ORDER BY d.name LIMIT ?6";
    static const std::string backward =
        std::string(kDevicePageSelect) + "WHERE d.name < ?1" + kDevicePageFilter + " ORDER BY d.name DESC LIMIT ?6";
    auto st = db_.prepare(backwards ? backward : forward);
    if (!st) return st.error();
    const std::string lsc = query.lsc ? std::string(to_string(*query.lsc)) : std::string();
    st->bind(1, backwards ? query.before : query.after)
        .bind(2, query.name_contains)
        .bind(3, query.model_contains)
        .bind(4, lsc)
        .bind(5, query.expiring_before)
        .bind(6, query.limit);
    while (true) {
        auto r = st->step();
        if (!r) return r.error();
        if (!*r) return {};
        auto item = read_device_row(*st);
        if (!item) return item.error();
        if (auto s = row(*item); !s) return s;
    }
}

Result<LscStatusCounts> SqliteStore::count_devices_by_lsc(UnixTime expiring_before) {
    // One pass over the certificates grouped by device (the index
    // certificates_device), joined to the devices: 2-3 times faster than three
    // subqueries per device (0.2 s against 0.56 s at 100 000 devices).
    auto st = db_.prepare(
        "SELECT count(*), coalesce(sum(c.active_until IS NOT NULL), 0), "
        "coalesce(sum(c.active_until IS NULL AND coalesce(c.unconfirmed, 0)), 0), "
        "coalesce(sum(c.active_until IS NULL AND NOT coalesce(c.unconfirmed, 0) AND coalesce(c.revoked, 0)), 0), "
        "coalesce(sum(c.active_until IS NULL AND NOT coalesce(c.unconfirmed, 0) AND NOT coalesce(c.revoked, 0)), 0), "
        "coalesce(sum(c.active_until < ?1), 0) "
        "FROM devices d LEFT JOIN (SELECT device_name, max(CASE WHEN status = 'active' THEN not_after END) AS active_until, "
        "max(status = 'unconfirmed') AS unconfirmed, max(status = 'revoked') AS revoked "
        "FROM certificates WHERE kind = 'lsc' GROUP BY device_name) c ON c.device_name = d.name");
    if (!st) return st.error();
    st->bind(1, expiring_before);
    if (auto r = st->step(); !r) return r.error();
    LscStatusCounts out;
    out.devices = st->column_int(0);
    out.active = st->column_int(1);
    out.unconfirmed = st->column_int(2);
    out.revoked = st->column_int(3);
    out.none = st->column_int(4);
    out.expiring = st->column_int(5);
    st->reset();
    auto ops = db_.prepare("SELECT count(*) FROM operations WHERE state IN ('pending','in-progress')");
    if (!ops) return ops.error();
    if (auto r = ops->step(); !r) return r.error();
    out.open_operations = ops->column_int(0);
    return out;
}

Status SqliteStore::add_web_account(const std::string& name, WebRole role, const std::string& password_hash,
                                    const std::string& actor) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto known = find_web_account(name);
    if (!known) return known.error();
    if (known->has_value()) return fail(ErrorKind::Input, "web account " + name + " already exists");
    auto st = db_.prepare("INSERT INTO web_accounts(name, role, password_hash, created_at, updated_at) "
                          "VALUES(?,?,?,?,?)");
    if (!st) return st.error();
    const auto now = now_utc();
    st->bind(1, name).bind(2, to_string(role)).bind(3, password_hash).bind(4, now).bind(5, now);
    if (auto s = st->run(); !s) return s;
    if (auto s = audit(actor, "web-account.add", "", "account=" + name + " role=" + std::string(to_string(role))); !s)
        return s;
    return tx->commit();
}

Result<std::optional<WebAccount>> SqliteStore::find_web_account(const std::string& name) {
    auto st = db_.prepare(std::string("SELECT ") + kAccountColumns + " FROM web_accounts WHERE name = ?");
    if (!st) return st.error();
    st->bind(1, name);
    auto r = st->step();
    if (!r) return r.error();
    if (!*r) return std::optional<WebAccount>{};
    auto a = read_account(*st);
    if (!a) return a.error();
    return std::optional<WebAccount>{std::move(*a)};
}

Status SqliteStore::each_web_account(const RowFn<WebAccount>& row) {
    auto st = db_.prepare(std::string("SELECT ") + kAccountColumns + " FROM web_accounts ORDER BY name");
    if (!st) return st.error();
    while (true) {
        auto r = st->step();
        if (!r) return r.error();
        if (!*r) return {};
        auto a = read_account(*st);
        if (!a) return a.error();
        if (auto s = row(*a); !s) return s;
    }
}

Status SqliteStore::set_web_account_password(const std::string& name, const std::string& password_hash,
                                             const std::string& actor) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto st = db_.prepare("UPDATE web_accounts SET password_hash = ?, failed_logins = 0, locked_until = NULL, "
                          "updated_at = ? WHERE name = ?");
    if (!st) return st.error();
    st->bind(1, password_hash).bind(2, now_utc()).bind(3, name);
    if (auto s = st->run(); !s) return s;
    if (db_.changes() == 0) return fail(ErrorKind::Input, "no such web account: " + name);
    if (auto s = audit(actor, "web-account.passwd", "", "account=" + name); !s) return s;
    return tx->commit();
}

Status SqliteStore::remove_web_account(const std::string& name, const std::string& actor) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto st = db_.prepare("DELETE FROM web_accounts WHERE name = ?");
    if (!st) return st.error();
    st->bind(1, name);
    if (auto s = st->run(); !s) return s;
    if (db_.changes() == 0) return fail(ErrorKind::Input, "no such web account: " + name);
    if (auto s = audit(actor, "web-account.remove", "", "account=" + name); !s) return s;
    return tx->commit();
}

Status SqliteStore::set_web_login_state(const std::string& name, int failed_logins, std::optional<UnixTime> locked_until) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto st = db_.prepare("UPDATE web_accounts SET failed_logins = ?, locked_until = ?, updated_at = ? WHERE name = ?");
    if (!st) return st.error();
    st->bind(1, failed_logins).bind(2, locked_until).bind(3, now_utc()).bind(4, name);
    if (auto s = st->run(); !s) return s;
    if (db_.changes() == 0) return fail(ErrorKind::Input, "no such web account: " + name);
    return tx->commit();
}

}  // namespace lscgate
