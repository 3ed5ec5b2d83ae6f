// PgStore: the fleet rows (issue 10; registry/fleet_records.h) — the bounded
// CAPF session table, rollouts with their waves and devices, and adopting a
// fetched LSC. The same semantics as sqlite_store_fleet.cpp; every write runs
// in write() (retried on 40001/40P01), audited through insert_audit.

#include "registry/postgresql/pg_store.h"

#include "pki/certificate.h"
#include "registry/postgresql/pg_store_rows.h"

#include <algorithm>
#include <limits>

namespace lscgate {
namespace {

// Rows per page when reading sessions or rollout members.
constexpr int kPgFleetPageRows = 1000;
// Rollout devices per INSERT (one text[] parameter each).
constexpr std::size_t kPgRolloutInsertRows = 1000;

constexpr const char* kPgSessionColumns =
    "s.id, floor(extract(epoch FROM s.at))::bigint, s.device, s.operation_id, s.operation, s.auth_mode, s.result, "
    "s.cause_class, s.cause, s.peer, s.serial, s.duration_ms";

constexpr const char* kPgRolloutColumns =
    "r.id, r.name, r.kind, r.auth_mode, r.auth_secret, r.generate_strings, r.key_type, r.rsa_bits, r.ec_curve, "
    "r.by_seconds, r.wave_size, r.waves, r.next_wave, floor(extract(epoch FROM r.created_at))::bigint, r.created_by, "
    "(SELECT count(*) FROM lscgate.rollout_devices d WHERE d.rollout_id = r.id)";

constexpr const char* kPgMemberColumns =
    "m.device, m.wave, m.position, m.operation_id, m.skipped, o.state, o.last_error, "
    "floor(extract(epoch FROM o.completes_by))::bigint, floor(extract(epoch FROM o.created_at))::bigint";

// The session whose columns (kPgSessionColumns) start at `first` of row `i`.
Result<CapfSessionRecord> read_pg_session(const PgResult& r, int i, int first) {
    CapfSessionRecord s;
    auto id = r.int64(i, first);
    auto at = r.int64(i, first + 1);
    auto op = r.optional_int64(i, first + 3);
    auto ms = r.int64(i, first + 11);
    if (!id || !at || !op || !ms) return fail("corrupt CAPF session row");
    s.id = *id;
    s.at = *at;
    s.device = r.text(i, first + 2);
    s.operation_id = *op;
    s.operation = r.text(i, first + 4);
    s.auth_mode = r.text(i, first + 5);
    s.result = r.text(i, first + 6);
    s.cause_class = r.text(i, first + 7);
    s.cause = r.text(i, first + 8);
    s.peer = r.text(i, first + 9);
    s.serial = r.text(i, first + 10);
    s.duration_ms = *ms;
    return s;
}

Result<Rollout> read_pg_rollout(const PgResult& r, int i) {
    Rollout out;
    auto id = r.int64(i, 0);
    auto strings = r.boolean(i, 5);
    auto bits = r.int64(i, 7);
    auto by = r.optional_int64(i, 9);
    auto size = r.int64(i, 10);
    auto waves = r.int64(i, 11);
    auto next = r.int64(i, 12);
    auto created = r.int64(i, 13);
    auto devices = r.int64(i, 15);
    if (!id || !strings || !bits || !by || !size || !waves || !next || !created || !devices)
        return fail("corrupt rollout row");
    out.id = *id;
    out.name = r.text(i, 1);
    auto kind = parse_operation_kind(r.text(i, 2));
    auto mode = parse_auth_mode(r.text(i, 3));
    auto key = parse_key_spec(r.text(i, 6) == "rsa" ? "rsa:" + std::to_string(*bits) : "ec:" + r.text(i, 8));
    if (!kind || !mode || !key) return fail("corrupt rollout row " + std::to_string(out.id));
    out.request.kind = *kind;
    out.request.auth_mode = *mode;
    out.request.auth_secret_hash = r.text(i, 4);
    out.request.key = *key;
    out.generate_strings = *strings;
    out.by_seconds = *by;
    out.wave_size = static_cast<int>(*size);
    out.waves = static_cast<int>(*waves);
    out.next_wave = static_cast<int>(*next);
    out.created_at = *created;
    out.created_by = r.text(i, 14);
    out.devices = static_cast<int>(*devices);
    return out;
}

// A member (kPgMemberColumns, then kPgSessionColumns from column 9).
Result<RolloutMember> read_pg_member(const PgResult& r, int i) {
    RolloutMember m;
    auto wave = r.int64(i, 1);
    auto position = r.int64(i, 2);
    auto op = r.optional_int64(i, 3);
    auto by = r.optional_int64(i, 7);
    auto created = r.optional_int64(i, 8);
    if (!wave || !position || !op || !by || !created) return fail("corrupt rollout device row");
    m.device = r.text(i, 0);
    m.wave = static_cast<int>(*wave);
    m.position = static_cast<int>(*position);
    m.operation_id = *op;
    m.skipped = r.text(i, 4);
    if (auto state = r.optional_text(i, 5)) {
        auto parsed = parse_operation_state(*state);
        if (!parsed) return fail("corrupt operation state of rollout device " + m.device);
        m.state = *parsed;
    }
    m.last_error = r.text(i, 6);
    m.completes_by = *by;
    m.operation_created_at = *created;
    if (!r.is_null(i, 9)) {
        auto session = read_pg_session(r, i, 9);
        if (!session) return session.error();
        m.last_session = std::move(*session);
    }
    return m;
}

// items[from, to) as a PostgreSQL text[] literal, each element quoted (bound as
// one parameter: the names never enter the SQL text).
std::string pg_text_array(const std::vector<std::string>& items, std::size_t from, std::size_t to) {
    std::string out = "{";
    for (std::size_t i = from; i < to; ++i) {
        if (i != from) out += ',';
        out += '"';
        for (char c : items[i]) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    out += '}';
    return out;
}

}  // namespace

// ---- CAPF sessions ------------------------------------------------------------

Status PgStore::record_capf_session(const CapfSessionRecord& session, std::int64_t keep_rows) {
    if (keep_rows < 1)
        return fail(ErrorKind::Input, "session history " + std::to_string(keep_rows) + ": must keep at least 1 row");
    return write([&]() -> Status {
        auto ins = run("capf_session_insert",
                       "INSERT INTO lscgate.capf_sessions(at, device, operation_id, operation, auth_mode, result, "
                       "cause_class, cause, peer, serial, duration_ms) VALUES(to_timestamp($1::bigint), $2, $3::bigint, "
                       "$4, $5, $6, $7, $8, $9, $10, $11::bigint) RETURNING id",
                       {pg_param(session.at), pg_param(session.device), pg_param(session.operation_id),
                        pg_param(session.operation), pg_param(session.auth_mode), pg_param(session.result),
                        pg_param(session.cause_class), pg_param(session.cause), pg_param(session.peer),
                        pg_param(session.serial), pg_param(session.duration_ms)});
        if (!ins) return ins.error();
        auto id = ins->int64(0, 0);
        if (!id) return id.error();
        // Identity values grow: at or below new id - keep_rows is older than the
        // newest keep_rows rows (another server's concurrent row only trims more).
        auto trim = run("capf_session_trim", "DELETE FROM lscgate.capf_sessions WHERE id <= $1::bigint",
                        {pg_param(*id - keep_rows)});
        if (!trim) return trim.error();
        return {};
    });
}

Status PgStore::each_capf_session(const CapfSessionFilter& filter, const RowFn<CapfSessionRecord>& row) {
    // One fixed text per combination of filters (named after it); values bound.
    // Pages walk down the ids: $1 is the last id seen, the last parameter the page size.
    std::string name = "capf_session_page";
    std::string sql = std::string("SELECT ") + kPgSessionColumns + " FROM lscgate.capf_sessions s WHERE s.id < $1::bigint";
    PgParams params{PgParam{}};
    auto next = [&params] { return "$" + std::to_string(params.size() + 1); };
    if (filter.device) {
        name += "_device";
        sql += " AND s.device = " + next();
        params.push_back(pg_param(*filter.device));
    }
    if (filter.operation_id) {
        name += "_operation";
        sql += " AND s.operation_id = " + next() + "::bigint";
        params.push_back(pg_param(*filter.operation_id));
    }
    if (filter.since) {
        name += "_since";
        sql += " AND s.at >= to_timestamp(" + next() + "::bigint)";
        params.push_back(pg_param(*filter.since));
    }
    sql += " ORDER BY s.id DESC LIMIT " + next() + "::bigint";
    params.emplace_back();
    std::int64_t before = std::numeric_limits<std::int64_t>::max();
    std::int64_t left = filter.limit > 0 ? filter.limit : std::numeric_limits<std::int64_t>::max();
    while (left > 0) {
        const std::int64_t page = std::min<std::int64_t>(left, kPgFleetPageRows);
        params.front() = pg_param(before);
        params.back() = pg_param(page);
        auto r = run(name, sql, params);
        if (!r) return r.error();
        for (int i = 0; i < r->rows(); ++i) {
            auto s = read_pg_session(*r, i, 0);
            if (!s) return s.error();
            if (auto told = row(*s); !told) return told;
            before = s->id;
            --left;
        }
        if (r->rows() < page) return {};
    }
    return {};
}

// ---- rollouts -------------------------------------------------------------------

Status PgStore::insert_rollout_rows(std::int64_t rollout_id, int waves, int wave_size,
                                    const std::vector<std::string>& devices) {
    auto w = run("rollout_waves_insert",
                 "INSERT INTO lscgate.rollout_waves(rollout_id, wave) SELECT $1::bigint, generate_series(1, $2::int)",
                 {pg_param(rollout_id), pg_param(waves)});
    if (!w) return w.error();
    for (std::size_t from = 0; from < devices.size(); from += kPgRolloutInsertRows) {
        const std::size_t to = std::min(devices.size(), from + kPgRolloutInsertRows);
        // Position = $2 + ordinality - 1; wave = position / wave_size + 1 (integer division).
        auto m = run("rollout_devices_insert",
                     "INSERT INTO lscgate.rollout_devices(rollout_id, position, wave, device) "
                     "SELECT $1::bigint, $2::int + t.ord::int - 1, ($2::int + t.ord::int - 1) / $3::int + 1, t.device "
                     "FROM unnest($4::text[]) WITH ORDINALITY AS t(device, ord)",
                     {pg_param(rollout_id), pg_param(static_cast<std::int64_t>(from)), pg_param(wave_size),
                      pg_param(pg_text_array(devices, from, to))});
        if (!m) return m.error();
    }
    return {};
}

Result<Rollout> PgStore::create_rollout(const Rollout& plan, const std::vector<std::string>& devices,
                                        const std::string& actor) {
    if (auto s = check_rollout_plan(plan, devices); !s) return s.error();
    Rollout out = plan;
    out.waves = rollout_wave_count(devices.size(), plan.wave_size);
    out.devices = static_cast<int>(devices.size());
    out.next_wave = 1;
    out.created_at = plan.created_at != 0 ? plan.created_at : now_utc();
    out.created_by = actor;
    out.request.completes_by.reset();  // each wave has its own (by_seconds)
    return write([&]() -> Result<Rollout> {
        // ON CONFLICT: a name taken (even by a writer racing us) is refused in
        // words, not as a unique violation that aborts the caller's transaction.
        auto r = run("rollout_insert",
                     "INSERT INTO lscgate.rollouts(name, kind, auth_mode, auth_secret, generate_strings, key_type, "
                     "rsa_bits, ec_curve, by_seconds, wave_size, waves, next_wave, created_at, created_by) "
                     "VALUES($1, $2, $3, $4, $5::boolean, $6, $7::int, $8, $9::bigint, $10::int, $11::int, 1, "
                     "to_timestamp($12::bigint), $13) ON CONFLICT (name) DO NOTHING RETURNING id",
                     {pg_param(out.name), pg_param(to_string(out.request.kind)),
                      pg_param(to_string(out.request.auth_mode)), pg_param(out.request.auth_secret_hash),
                      pg_param(out.generate_strings), pg_param(out.request.key.type == KeyType::Rsa ? "rsa" : "ec"),
                      pg_param(out.request.key.rsa_bits), pg_param(curve_name(out.request.key.curve)),
                      pg_param(out.by_seconds), pg_param(out.wave_size), pg_param(out.waves),
                      pg_param(out.created_at), pg_param(out.created_by)});
        if (!r) return r.error();
        if (r->rows() == 0) {
            auto found = find_rollout(out.name);
            const std::string when =
                found && found->has_value() ? " (created " + format_utc((*found)->created_at) + ")" : "";
            return fail(ErrorKind::Config, "a rollout named " + out.name + " already exists" + when +
                                               ": choose another name");
        }
        auto id = r->int64(0, 0);
        if (!id) return id.error();
        out.id = *id;
        if (auto s = insert_rollout_rows(out.id, out.waves, out.wave_size, devices); !s) return s.error();
        if (auto s = insert_audit(actor, std::string(kAuditRolloutCreate), "", rollout_audit_detail(out)); !s)
            return s.error();
        return out;
    });
}

Status PgStore::each_rollout_where(const std::string& name, const std::string& where, const PgParams& params,
                                   const RowFn<Rollout>& row) {
    // `where` is one of this file's fixed clauses; values are bound.
    auto r = run(name, std::string("SELECT ") + kPgRolloutColumns + " FROM lscgate.rollouts r " + where, params);
    if (!r) return r.error();
    for (int i = 0; i < r->rows(); ++i) {
        auto rollout = read_pg_rollout(*r, i);
        if (!rollout) return rollout.error();
        if (auto s = row(*rollout); !s) return s;
    }
    return {};
}

Result<std::optional<Rollout>> PgStore::find_rollout(const std::string& name) {
    std::optional<Rollout> out;
    auto s = each_rollout_where("rollout_find", "WHERE r.name = $1", {pg_param(name)}, [&out](const Rollout& r) -> Status {
        out = r;
        return {};
    });
    if (!s) return s.error();
    return out;
}

Status PgStore::each_rollout(const RowFn<Rollout>& row) {
    return each_rollout_where("rollout_list", "ORDER BY r.id", {}, row);
}

Status PgStore::each_rollout_wave(std::int64_t rollout_id, const RowFn<RolloutWave>& row) {
    auto r = run("rollout_wave_list",
                 "SELECT w.wave, (SELECT count(*) FROM lscgate.rollout_devices d WHERE d.rollout_id = w.rollout_id "
                 "AND d.wave = w.wave), floor(extract(epoch FROM w.scheduled_at))::bigint, "
                 "floor(extract(epoch FROM w.completes_by))::bigint FROM lscgate.rollout_waves w "
                 "WHERE w.rollout_id = $1::bigint ORDER BY w.wave",
                 {pg_param(rollout_id)});
    if (!r) return r.error();
    for (int i = 0; i < r->rows(); ++i) {
        auto wave = r->int64(i, 0);
        auto devices = r->int64(i, 1);
        auto at = r->optional_int64(i, 2);
        auto by = r->optional_int64(i, 3);
        if (!wave || !devices || !at || !by) return fail("corrupt rollout wave row");
        RolloutWave w;
        w.wave = static_cast<int>(*wave);
        w.devices = static_cast<int>(*devices);
        w.scheduled_at = *at;
        w.completes_by = *by;
        if (auto s = row(w); !s) return s;
    }
    return {};
}

Status PgStore::each_rollout_member(std::int64_t rollout_id, std::optional<int> wave,
                                    const RowFn<RolloutMember>& row) {
    // The newest session of the member's operation: the largest id among its
    // sessions (capf_sessions_operation index). Pages by position.
    const std::string sql =
        std::string("SELECT ") + kPgMemberColumns + ", " + kPgSessionColumns +
        " FROM lscgate.rollout_devices m LEFT JOIN lscgate.operations o ON o.id = m.operation_id "
        "LEFT JOIN lscgate.capf_sessions s ON s.id = (SELECT max(id) FROM lscgate.capf_sessions "
        "WHERE operation_id = m.operation_id) WHERE m.rollout_id = $1::bigint AND m.position > $2::int" +
        (wave ? " AND m.wave = $3::int" : "") + " ORDER BY m.position LIMIT " + std::to_string(kPgFleetPageRows);
    const std::string name = wave ? "rollout_member_page_wave" : "rollout_member_page";
    for (int after = -1;;) {
        PgParams params{pg_param(rollout_id), pg_param(after)};
        if (wave) params.push_back(pg_param(*wave));
        auto r = run(name, sql, params);
        if (!r) return r.error();
        for (int i = 0; i < r->rows(); ++i) {
            auto m = read_pg_member(*r, i);
            if (!m) return m.error();
            if (auto s = row(*m); !s) return s;
            after = m->position;
        }
        if (r->rows() < kPgFleetPageRows) return {};
    }
}

Status PgStore::set_rollout_member(std::int64_t rollout_id, const std::string& device,
                                   std::optional<std::int64_t> operation_id, const std::string& skipped) {
    return write([&]() -> Status {
        // Only a member no run has handled (READ COMMITTED re-checks the
        // condition after waiting for a concurrent run's row lock): of two runs
        // of one wave, the one that read the members first must not overwrite them.
        auto r = run("rollout_member_set",
                     "UPDATE lscgate.rollout_devices SET operation_id = $1::bigint, skipped = $2 "
                     "WHERE rollout_id = $3::bigint AND device = $4 AND operation_id IS NULL AND skipped = ''",
                     {pg_param(operation_id), pg_param(skipped), pg_param(rollout_id), pg_param(device)});
        if (!r) return r.error();
        if (r->affected_rows() == 0) {
            auto member = run("rollout_member_exists",
                              "SELECT 1 FROM lscgate.rollout_devices WHERE rollout_id = $1::bigint AND device = $2",
                              {pg_param(rollout_id), pg_param(device)});
            if (!member) return member.error();
            return fail(ErrorKind::Config, member->rows() > 0 ? rollout_member_handled(device, rollout_id)
                                                              : "device " + device + " is not in rollout " +
                                                                    std::to_string(rollout_id));
        }
        return {};
    });
}

Status PgStore::mark_rollout_wave_scheduled(std::int64_t rollout_id, int wave, UnixTime at,
                                            std::optional<UnixTime> completes_by, const std::string& actor) {
    return write([&]() -> Status {
        // The rollout row locked first: two `rollout next` on one rollout queue here.
        auto name = run("rollout_lock", "SELECT name FROM lscgate.rollouts WHERE id = $1::bigint FOR UPDATE",
                        {pg_param(rollout_id)});
        if (!name) return name.error();
        if (name->rows() == 0) return fail(ErrorKind::Config, "no rollout with id " + std::to_string(rollout_id));
        const std::string rollout = name->text(0, 0);
        auto w = run("rollout_wave_mark",
                     "UPDATE lscgate.rollout_waves SET scheduled_at = to_timestamp($1::bigint), "
                     "completes_by = to_timestamp($2::bigint) WHERE rollout_id = $3::bigint AND wave = $4::int",
                     {pg_param(at), pg_param(completes_by), pg_param(rollout_id), pg_param(wave)});
        if (!w) return w.error();
        if (w->affected_rows() == 0)
            return fail(ErrorKind::Config, "rollout " + rollout + " has no wave " + std::to_string(wave));
        // Never backwards: scheduling an earlier wave again must not make a later,
        // already scheduled one the next again.
        auto next = run("rollout_next_wave",
                        "UPDATE lscgate.rollouts SET next_wave = GREATEST(next_wave, $1::int) WHERE id = $2::bigint",
                        {pg_param(wave + 1), pg_param(rollout_id)});
        if (!next) return next.error();
        std::string detail = "name=" + rollout + " wave=" + std::to_string(wave) + " at=" + format_utc(at);
        if (completes_by) detail += " by=" + format_utc(*completes_by);
        return insert_audit(actor, std::string(kAuditRolloutWave), "", detail);
    });
}

// ---- adopting a fetched LSC -------------------------------------------------------

Result<CertificateRecord> PgStore::adopt_fetched_lsc(std::int64_t certificate_id, const std::string& actor) {
    return write([&]() -> Result<CertificateRecord> {
        // FOR UPDATE: a revoke or a second adopt of this row waits for us (or we for it).
        auto rows = certificates("certificate_lock_by_id", "WHERE id = $1 FOR UPDATE", {pg_param(certificate_id)});
        if (!rows) return rows.error();
        if (rows->empty())
            return fail(ErrorKind::Config, "certificate " + std::to_string(certificate_id) + " is not in the registry");
        CertificateRecord rec = std::move(rows->front());
        if (rec.kind != CertificateKind::Lsc)
            return fail(ErrorKind::Config, "certificate " + std::to_string(certificate_id) + " is a " +
                                               std::string(to_string(rec.kind)) +
                                               ", not an LSC: only a fetched LSC is adopted");
        if (rec.status != CertificateStatus::Fetched)
            return fail(ErrorKind::Config, "LSC serial " + rec.facts.serial_hex + " is " +
                                               std::string(to_string(rec.status)) +
                                               ", not fetched: only a fetched LSC is adopted");
        // One active LSC per device (a unique index): supersede first, then activate.
        auto supersede = run("certificate_adopt_supersede",
                             "UPDATE lscgate.certificates SET status='superseded' WHERE device_name=$1 AND kind='lsc' "
                             "AND status IN ('active','unconfirmed') AND id != $2::bigint",
                             {pg_param(rec.device_name), pg_param(rec.id)});
        if (!supersede) return supersede.error();
        const auto superseded = supersede->affected_rows();
        auto activate = run("certificate_adopt_activate",
                            "UPDATE lscgate.certificates SET status='active' WHERE id=$1::bigint AND status='fetched'",
                            {pg_param(rec.id)});
        if (!activate) return activate.error();
        if (activate->affected_rows() != 1)
            return fail("LSC serial " + rec.facts.serial_hex + " changed meanwhile; not adopted");
        if (auto s = insert_audit(actor, std::string(kAuditLscAdopt), rec.device_name,
                                  "serial=" + rec.facts.serial_hex + " sha256=" + rec.facts.sha256 +
                                      " superseded=" + std::to_string(superseded));
            !s)
            return s.error();
        rec.status = CertificateStatus::Active;
        return rec;
    });
}

}  // namespace lscgate
