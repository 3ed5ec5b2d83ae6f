// The fleet rows in the SQLite registry (issue 10; registry/fleet_records.h):
// the bounded CAPF session table, rollouts with their waves and devices, and
// adopting a fetched LSC. Values are always bound; the SQL texts are fixed (or
// built from fixed fragments), so the statement cache serves every call.

#include "registry/sqlite_store.h"

#include "pki/certificate.h"

namespace lscgate {
namespace {

constexpr const char* kSessionColumns =
    "s.id, s.at, s.device, s.operation_id, s.operation, s.auth_mode, s.result, s.cause_class, s.cause, s.peer, "
    "s.serial, s.duration_ms";
constexpr int kSessionColumnCount = 12;

constexpr const char* kRolloutColumns =
    "r.id, r.name, r.kind, r.auth_mode, r.auth_secret, r.generate_strings, r.key_type, r.rsa_bits, r.ec_curve, "
    "r.by_seconds, r.wave_size, r.waves, r.next_wave, r.created_at, r.created_by, "
    "(SELECT count(*) FROM rollout_devices d WHERE d.rollout_id = r.id)";

// The session whose columns (kSessionColumns) start at `first`.
CapfSessionRecord read_session(const SqliteStatement& st, int first) {
    CapfSessionRecord s;
    s.id = st.column_int(first);
    s.at = st.column_int(first + 1);
    s.device = st.column_text(first + 2);
    s.operation_id = st.column_optional_int(first + 3);
    s.operation = st.column_text(first + 4);
    s.auth_mode = st.column_text(first + 5);
    s.result = st.column_text(first + 6);
    s.cause_class = st.column_text(first + 7);
    s.cause = st.column_text(first + 8);
    s.peer = st.column_text(first + 9);
    s.serial = st.column_text(first + 10);
    s.duration_ms = st.column_int(first + 11);
    return s;
}

Result<Rollout> read_rollout(const SqliteStatement& st) {
    Rollout r;
    r.id = st.column_int(0);
    r.name = st.column_text(1);
    auto kind = parse_operation_kind(st.column_text(2));
    auto mode = parse_auth_mode(st.column_text(3));
    auto key = parse_key_spec(st.column_text(6) == "rsa" ? "rsa:" + std::to_string(st.column_int(7))
                                                         : "ec:" + st.column_text(8));
    if (!kind || !mode || !key) return fail("corrupt rollout row " + std::to_string(r.id));
    r.request.kind = *kind;
    r.request.auth_mode = *mode;
    r.request.auth_secret_hash = st.column_text(4);
    r.request.key = *key;
    r.generate_strings = st.column_int(5) != 0;
    r.by_seconds = st.column_optional_int(9);
    r.wave_size = static_cast<int>(st.column_int(10));
    r.waves = static_cast<int>(st.column_int(11));
    r.next_wave = static_cast<int>(st.column_int(12));
    r.created_at = st.column_int(13);
    r.created_by = st.column_text(14);
    r.devices = static_cast<int>(st.column_int(15));
    return r;
}

Result<RolloutMember> read_member(const SqliteStatement& st) {
    RolloutMember m;
    m.device = st.column_text(0);
    m.wave = static_cast<int>(st.column_int(1));
    m.position = static_cast<int>(st.column_int(2));
    m.operation_id = st.column_optional_int(3);
    m.skipped = st.column_text(4);
    if (auto state = st.column_optional_text(5)) {
        auto parsed = parse_operation_state(*state);
        if (!parsed) return fail("corrupt operation state of rollout device " + m.device);
        m.state = *parsed;
    }
    m.last_error = st.column_text(6);
    m.completes_by = st.column_optional_int(7);
    m.operation_created_at = st.column_optional_int(8);
    if (st.column_optional_int(9)) m.last_session = read_session(st, 9);
    return m;
}

}  // namespace

// ---- CAPF sessions ------------------------------------------------------------

Status SqliteStore::record_capf_session(const CapfSessionRecord& session, std::int64_t keep_rows) {
    if (keep_rows < 1)
        return fail(ErrorKind::Input, "session history " + std::to_string(keep_rows) + ": must keep at least 1 row");
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto ins = db_.prepare(
        "INSERT INTO capf_sessions(at, device, operation_id, operation, auth_mode, result, cause_class, cause, peer, "
        "serial, duration_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?)");
    if (!ins) return ins.error();
    ins->bind(1, session.at)
        .bind(2, session.device)
        .bind(3, session.operation_id)
        .bind(4, session.operation)
        .bind(5, session.auth_mode)
        .bind(6, session.result)
        .bind(7, session.cause_class)
        .bind(8, session.cause)
        .bind(9, session.peer)
        .bind(10, session.serial)
        .bind(11, session.duration_ms);
    if (auto s = ins->run(); !s) return s;
    // Ids grow with every insert: everything at or below new id - keep_rows is
    // older than the newest keep_rows rows (gaps only make fewer rows remain).
    auto trim = db_.prepare("DELETE FROM capf_sessions WHERE id <= ?");
    if (!trim) return trim.error();
    trim->bind(1, db_.last_insert_id() - keep_rows);
    if (auto s = trim->run(); !s) return s;
    return tx->commit();
}

Status SqliteStore::each_capf_session(const CapfSessionFilter& filter, const RowFn<CapfSessionRecord>& row) {
    // At most 16 fixed texts (each filter present or not); every value is bound.
    std::string sql = std::string("SELECT ") + kSessionColumns + " FROM capf_sessions s WHERE 1=1";
    if (filter.device) sql += " AND s.device = ?";
    if (filter.operation_id) sql += " AND s.operation_id = ?";
    if (filter.since) sql += " AND s.at >= ?";
    sql += " ORDER BY s.id DESC";
    if (filter.limit > 0) sql += " LIMIT ?";
    auto st = db_.prepare(sql);
    if (!st) return st.error();
    int index = 0;
    if (filter.device) st->bind(++index, *filter.device);
    if (filter.operation_id) st->bind(++index, *filter.operation_id);
    if (filter.since) st->bind(++index, *filter.since);
    if (filter.limit > 0) st->bind(++index, filter.limit);
    while (true) {
        auto r = st->step();
        if (!r) return r.error();
        if (!*r) return {};
        if (auto s = row(read_session(*st, 0)); !s) return s;
    }
}

// ---- rollouts -------------------------------------------------------------------

Status SqliteStore::insert_rollout_rows(std::int64_t rollout_id, int waves, int wave_size,
                                        const std::vector<std::string>& devices) {
    auto wave = db_.prepare("INSERT INTO rollout_waves(rollout_id, wave) VALUES(?,?)");
    if (!wave) return wave.error();
    for (int w = 1; w <= waves; ++w) {
        wave->bind(1, rollout_id).bind(2, w);
        if (auto s = wave->run(); !s) return s;
    }
    auto member = db_.prepare("INSERT INTO rollout_devices(rollout_id, position, wave, device) VALUES(?,?,?,?)");
    if (!member) return member.error();
    for (std::size_t i = 0; i < devices.size(); ++i) {
        const auto position = static_cast<std::int64_t>(i);
        member->bind(1, rollout_id).bind(2, position).bind(3, position / wave_size + 1).bind(4, devices[i]);
        if (auto s = member->run(); !s) return s;
    }
    return {};
}

Result<Rollout> SqliteStore::create_rollout(const Rollout& plan, const std::vector<std::string>& devices,
                                            const std::string& actor) {
    if (auto s = check_rollout_plan(plan, devices); !s) return s.error();
    Rollout out = plan;
    out.waves = rollout_wave_count(devices.size(), plan.wave_size);
    out.devices = static_cast<int>(devices.size());
    out.next_wave = 1;
    out.created_at = plan.created_at != 0 ? plan.created_at : now_utc();
    out.created_by = actor;
    out.request.completes_by.reset();  // each wave has its own (by_seconds)
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    if (auto found = find_rollout(plan.name); !found) {
        return found.error();
    } else if (found->has_value()) {
        return fail(ErrorKind::Config, "a rollout named " + plan.name + " already exists (created " +
                                           format_utc((*found)->created_at) + "): choose another name");
    }
    auto st = db_.prepare(
        "INSERT INTO rollouts(name, kind, auth_mode, auth_secret, generate_strings, key_type, rsa_bits, ec_curve, "
        "by_seconds, wave_size, waves, next_wave, created_at, created_by) VALUES(?,?,?,?,?,?,?,?,?,?,?,1,?,?)");
    if (!st) return st.error();
    st->bind(1, out.name)
        .bind(2, to_string(out.request.kind))
        .bind(3, to_string(out.request.auth_mode))
        .bind(4, out.request.auth_secret_hash)
        .bind(5, out.generate_strings ? 1 : 0)
        .bind(6, out.request.key.type == KeyType::Rsa ? "rsa" : "ec")
        .bind(7, out.request.key.rsa_bits)
        .bind(8, curve_name(out.request.key.curve))
        .bind(9, out.by_seconds)
        .bind(10, out.wave_size)
        .bind(11, out.waves)
        .bind(12, out.created_at)
        .bind(13, out.created_by);
    if (auto s = st->run(); !s) return s.error();
    out.id = db_.last_insert_id();
    if (auto s = insert_rollout_rows(out.id, out.waves, out.wave_size, devices); !s) return s.error();
    if (auto s = audit(actor, std::string(kAuditRolloutCreate), "", rollout_audit_detail(out)); !s) return s.error();
    if (auto s = tx->commit(); !s) return s.error();
    return out;
}

Status SqliteStore::each_rollout_where(const std::string& where, const std::optional<std::string>& arg,
                                       const RowFn<Rollout>& row) {
    // `where` is one of this file's fixed clauses; the value is bound.
    auto st = db_.prepare(std::string("SELECT ") + kRolloutColumns + " FROM rollouts r " + where);
    if (!st) return st.error();
    if (arg) st->bind(1, *arg);
    while (true) {
        auto r = st->step();
        if (!r) return r.error();
        if (!*r) return {};
        auto rollout = read_rollout(*st);
        if (!rollout) return rollout.error();
        if (auto s = row(*rollout); !s) return s;
    }
}

Result<std::optional<Rollout>> SqliteStore::find_rollout(const std::string& name) {
    std::optional<Rollout> out;
    auto s = each_rollout_where("WHERE r.name = ?", name, [&out](const Rollout& r) -> Status {
        out = r;
        return {};
    });
    if (!s) return s.error();
    return out;
}

Status SqliteStore::each_rollout(const RowFn<Rollout>& row) {
    return each_rollout_where("ORDER BY r.id", std::nullopt, row);
}

Status SqliteStore::each_rollout_wave(std::int64_t rollout_id, const RowFn<RolloutWave>& row) {
    auto st = db_.prepare(
        "SELECT w.wave, (SELECT count(*) FROM rollout_devices d WHERE d.rollout_id = w.rollout_id AND d.wave = w.wave), "
        "w.scheduled_at, w.completes_by FROM rollout_waves w WHERE w.rollout_id = ? ORDER BY w.wave");
    if (!st) return st.error();
    st->bind(1, rollout_id);
    while (true) {
        auto r = st->step();
        if (!r) return r.error();
        if (!*r) return {};
        RolloutWave w;
        w.wave = static_cast<int>(st->column_int(0));
        w.devices = static_cast<int>(st->column_int(1));
        w.scheduled_at = st->column_optional_int(2);
        w.completes_by = st->column_optional_int(3);
        if (auto s = row(w); !s) return s;
    }
}

Status SqliteStore::each_rollout_member(std::int64_t rollout_id, std::optional<int> wave,
                                        const RowFn<RolloutMember>& row) {
    // The newest session of the member's operation: the largest id among its
    // sessions (capf_sessions_operation index), none when it has no operation.
    std::string sql = std::string(
                          "SELECT m.device, m.wave, m.position, m.operation_id, m.skipped, o.state, o.last_error, "
                          "o.completes_by, o.created_at, ") +
                      kSessionColumns +
                      " FROM rollout_devices m LEFT JOIN operations o ON o.id = m.operation_id "
                      "LEFT JOIN capf_sessions s ON s.id = (SELECT max(id) FROM capf_sessions "
                      "WHERE operation_id = m.operation_id) WHERE m.rollout_id = ?";
    if (wave) sql += " AND m.wave = ?";
    sql += " ORDER BY m.position";
    auto st = db_.prepare(sql);
    if (!st) return st.error();
    st->bind(1, rollout_id);
    if (wave) st->bind(2, *wave);
    static_assert(kSessionColumnCount == 12, "read_member reads the session from column 9 on");
    while (true) {
        auto r = st->step();
        if (!r) return r.error();
        if (!*r) return {};
        auto m = read_member(*st);
        if (!m) return m.error();
        if (auto s = row(*m); !s) return s;
    }
}

Status SqliteStore::set_rollout_member(std::int64_t rollout_id, const std::string& device,
                                       std::optional<std::int64_t> operation_id, const std::string& skipped) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    // Only a member no run has handled: of two runs of one wave, the one that
    // read the members before the other wrote them must not overwrite them.
    auto st = db_.prepare("UPDATE rollout_devices SET operation_id = ?, skipped = ? WHERE rollout_id = ? AND device = ? "
                          "AND operation_id IS NULL AND skipped = ''");
    if (!st) return st.error();
    st->bind(1, operation_id).bind(2, skipped).bind(3, rollout_id).bind(4, device);
    if (auto s = st->run(); !s) return s;
    if (db_.changes() == 0) {
        auto member = db_.prepare("SELECT 1 FROM rollout_devices WHERE rollout_id = ? AND device = ?");
        if (!member) return member.error();
        member->bind(1, rollout_id).bind(2, device);
        auto found = member->step();
        if (!found) return found.error();
        return fail(ErrorKind::Config, *found ? rollout_member_handled(device, rollout_id)
                                              : "device " + device + " is not in rollout " + std::to_string(rollout_id));
    }
    return tx->commit();
}

Status SqliteStore::mark_rollout_wave_scheduled(std::int64_t rollout_id, int wave, UnixTime at,
                                                std::optional<UnixTime> completes_by, const std::string& actor) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto name = db_.prepare("SELECT name FROM rollouts WHERE id = ?");
    if (!name) return name.error();
    name->bind(1, rollout_id);
    auto found = name->step();
    if (!found) return found.error();
    if (!*found) return fail(ErrorKind::Config, "no rollout with id " + std::to_string(rollout_id));
    const std::string rollout = name->column_text(0);
    name->reset();
    auto st = db_.prepare("UPDATE rollout_waves SET scheduled_at = ?, completes_by = ? WHERE rollout_id = ? AND wave = ?");
    if (!st) return st.error();
    st->bind(1, at).bind(2, completes_by).bind(3, rollout_id).bind(4, wave);
    if (auto s = st->run(); !s) return s;
    if (db_.changes() == 0) return fail(ErrorKind::Config, "rollout " + rollout + " has no wave " + std::to_string(wave));
    // Never backwards: scheduling an earlier wave again must not make a later,
    // already scheduled one the next again.
    auto next = db_.prepare("UPDATE rollouts SET next_wave = max(next_wave, ?) WHERE id = ?");
    if (!next) return next.error();
    next->bind(1, wave + 1).bind(2, rollout_id);
    if (auto s = next->run(); !s) return s;
    std::string detail = "name=" + rollout + " wave=" + std::to_string(wave) + " at=" + format_utc(at);
    if (completes_by) detail += " by=" + format_utc(*completes_by);
    if (auto s = audit(actor, std::string(kAuditRolloutWave), "", detail); !s) return s;
    return tx->commit();
}

// ---- adopting a fetched LSC -------------------------------------------------------

Result<CertificateRecord> SqliteStore::adopt_fetched_lsc(std::int64_t certificate_id, const std::string& actor) {
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto rows = query_certificates("WHERE id = CAST(? AS INTEGER)", std::to_string(certificate_id));
    if (!rows) return rows.error();
    if (rows->empty())
        return fail(ErrorKind::Config, "certificate " + std::to_string(certificate_id) + " is not in the registry");
    CertificateRecord rec = std::move(rows->front());
    if (rec.kind != CertificateKind::Lsc)
        return fail(ErrorKind::Config, "certificate " + std::to_string(certificate_id) + " is a " +
                                           std::string(to_string(rec.kind)) + ", not an LSC: only a fetched LSC is adopted");
    if (rec.status != CertificateStatus::Fetched)
        return fail(ErrorKind::Config, "LSC serial " + rec.facts.serial_hex + " is " +
                                           std::string(to_string(rec.status)) + ", not fetched: only a fetched LSC is adopted");
    // One active LSC per device (a unique index): supersede first, then activate.
    auto supersede = db_.prepare(
        "UPDATE certificates SET status='superseded' WHERE device_name=? AND kind='lsc' AND "
        "status IN ('active','unconfirmed') AND id != ?");
    if (!supersede) return supersede.error();
    supersede->bind(1, rec.device_name).bind(2, rec.id);
    if (auto s = supersede->run(); !s) return s.error();
    const int superseded = db_.changes();
    auto activate = db_.prepare("UPDATE certificates SET status='active' WHERE id=? AND status='fetched'");
    if (!activate) return activate.error();
    activate->bind(1, rec.id);
    if (auto s = activate->run(); !s) return s.error();
    if (db_.changes() != 1) return fail("LSC serial " + rec.facts.serial_hex + " changed meanwhile; not adopted");
    if (auto s = audit(actor, std::string(kAuditLscAdopt), rec.device_name,
                       "serial=" + rec.facts.serial_hex + " sha256=" + rec.facts.sha256 +
                           " superseded=" + std::to_string(superseded));
        !s)
        return s.error();
    if (auto s = tx->commit(); !s) return s.error();
    rec.status = CertificateStatus::Active;
    return rec;
}

}  // namespace lscgate
