// The fleet reports and LSC adoption (issue 10 items 5 and 8) on real registries,
// SQLite and PostgreSQL: the LSC status words of `report lsc` for each case (from
// the newest operation and its recorded CAPF sessions, with the time a
// parameter), last-seen and MIC-only, the stale (unconfirmed) LSCs and their
// purge, foreign LSCs from a real last-seen file, adoption of a fetched LSC only
// when it chains to a trusted CAPF, and CSV quoting through libcsv. Test names
// start with report/ or adopt/ and end in /sqlite or /postgresql.

#include "decide/cert_class.h"
#include "fleet/csv_writer.h"
#include "fleet/lsc_adopt.h"
#include "fleet/lsc_report.h"
#include "fleet/stale_lsc.h"
#include "pg_cluster.h"
#include "registry/last_seen_sink.h"
#include "registry/store.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <stdexcept>

using namespace lscgate;

namespace {

constexpr std::int64_t kDay = 86400;

std::string sep(int i) {
    char name[16];
    std::snprintf(name, sizeof name, "SEP%012X", i);
    return name;
}

class RegistryFixture : public ::testing::TestWithParam<std::string> {
protected:
    test::TempDir dir;
    std::optional<test::PgTestDatabase> pg_db;
    std::string database = make_database();
    Store store = open_store(database);
    test::TestCa capf = test::make_root_ca("CN=CAPF-report,O=Example");
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
    void add(const std::string& name, const std::string& model = "CP-8841") {
        auto d = store.add_device(name, model, "", "test");
        ASSERT_TRUE(d) << d.message();
    }
    Operation schedule(const std::string& device, OperationKind kind = OperationKind::Install,
                       std::optional<UnixTime> by = std::nullopt) {
        OperationRequest req;
        req.kind = kind;
        req.completes_by = by;
        auto op = store.schedule_operation(device, req, "test");
        EXPECT_TRUE(op) << op.message();
        return *op;
    }
    X509Ptr lsc_for(const std::string& device, const CapfAuthority& by, int days = 365) {
        auto key = test::make_key("ec:p256");
        auto cert = by.issue_lsc(device, key.get(), days);
        EXPECT_TRUE(cert) << cert.message();
        return std::move(*cert);
    }
    // An LSC issued by `authority`: confirmed (active), or only recorded (unconfirmed).
    CertificateRecord issue(const std::string& device, bool confirm = true) {
        auto op = schedule(device);
        auto cert = lsc_for(device, authority);
        auto rec = store.record_issued_lsc(op, cert.get());
        EXPECT_TRUE(rec) << rec.message();
        if (confirm) {
            auto confirmed = store.confirm_issued_lsc(op, rec->id);
            EXPECT_TRUE(confirmed) << confirmed.message();
            return *confirmed;
        }
        return *rec;
    }
    void record_session(const Operation& op, const std::string& result, const std::string& cause_class,
                        const std::string& cause) {
        CapfSessionRecord s;
        s.at = now;
        s.device = op.device_name;
        s.operation_id = op.id;
        s.operation = std::string(to_string(op.request.kind));
        s.auth_mode = "null";
        s.result = result;
        s.cause_class = cause_class;
        s.cause = cause;
        s.peer = "127.0.0.1:50000";
        ASSERT_TRUE(store.record_capf_session(s));
    }
    std::map<std::string, LscReportRow> report(const std::vector<std::string>& names, UnixTime at,
                                               const LastSeenIndex* seen = nullptr) {
        std::vector<BatchDevice> devices;
        for (const auto& n : names) devices.push_back(BatchDevice{n, 0, "", ""});
        std::map<std::string, LscReportRow> out;
        auto s = each_lsc_report_row(store, devices, seen, at, [&](const LscReportRow& r) -> Status {
            out.emplace(r.device, r);
            return {};
        });
        EXPECT_TRUE(s) << s.message();
        return out;
    }
};

std::string backend_name(const ::testing::TestParamInfo<std::string>& param) { return param.param; }

class LscReportOnBackends : public RegistryFixture {};
INSTANTIATE_TEST_SUITE_P(report, LscReportOnBackends,
                         ::testing::Values(std::string("sqlite"), std::string("postgresql")), backend_name);

TEST_P(LscReportOnBackends, StatusWordsForEachCase) {
    const std::string installed = sep(1), none = sep(2), pending = sep(3), wrong = sep(4), late = sep(5),
                      dropped = sep(6), rekey = sep(7), replaced = sep(8), old_server = sep(9);
    for (const auto& n : {installed, none, pending, wrong, late, dropped, rekey, replaced, old_server}) add(n);
    const auto active = issue(installed);
    schedule(pending);
    record_session(schedule(wrong), "failed", "wrong-string", "wrong or missing authentication string");
    schedule(late, OperationKind::Install, now + 3600);
    // drop-after-keygen: the LSC is recorded (unconfirmed), the operation stays open.
    const auto unconfirmed = issue(dropped, false);
    const auto dropped_op = store.open_operation(store.find_device(dropped)->value().id);
    ASSERT_TRUE(dropped_op && dropped_op->has_value());
    record_session(**dropped_op, "failed", "dropped-after-keygen", "dropped after the LSC was sent (unconfirmed)");
    const auto rekey_lsc = issue(rekey);
    schedule(rekey);
    // A failed session of an operation since replaced says nothing about the new one.
    record_session(schedule(replaced), "failed", "wrong-string", "wrong or missing authentication string");
    const Operation fresh = schedule(replaced);
    // No session recorded (a server that did not record them): the error on the operation.
    const Operation plain = schedule(old_server);
    ASSERT_TRUE(store.set_operation_state(plain.id, OperationState::Pending, "key generation not completed: timeout"));

    auto rows = report({installed, none, pending, wrong, late, dropped, rekey, replaced, old_server}, now);
    ASSERT_EQ(rows.size(), 9u);
    EXPECT_EQ(rows[installed].status_text(), "Installed");
    EXPECT_EQ(rows[installed].serial, active.facts.serial_hex);
    EXPECT_EQ(rows[installed].issuer, active.facts.issuer);
    EXPECT_EQ(rows[installed].model, "CP-8841") << "the model is the registry's, not the batch's";
    EXPECT_EQ(rows[installed].days_left, std::optional<std::int64_t>(365)) << "issued at or after `now`";
    const UnixTime hundred_days_before = active.facts.not_after - 100 * kDay - 1;
    EXPECT_EQ(report({installed}, hundred_days_before)[installed].days_left, std::optional<std::int64_t>(100))
        << "whole days left, rounded down, at the given time";
    EXPECT_EQ(report({installed}, active.facts.not_after + 1)[installed].days_left, std::optional<std::int64_t>(-1))
        << "negative once expired";
    EXPECT_EQ(rows[none].status_text(), "Not installed");
    EXPECT_TRUE(rows[none].serial.empty());
    EXPECT_FALSE(rows[none].not_after.has_value());
    EXPECT_EQ(rows[pending].status_text(), "Pending");
    EXPECT_EQ(rows[wrong].status_text(), "Failed: wrong or missing authentication string");
    EXPECT_EQ(rows[wrong].cause_class, "wrong-string");
    EXPECT_EQ(rows[late].status_text(), "Pending") << "before its completes-by";
    EXPECT_EQ(rows[dropped].status_text(), "Failed: dropped after the LSC was sent (unconfirmed)");
    EXPECT_EQ(rows[dropped].cause_class, "dropped-after-keygen");
    EXPECT_TRUE(rows[dropped].serial.empty()) << "an unconfirmed LSC is not the installed one: " << unconfirmed.facts.serial_hex;
    EXPECT_EQ(rows[rekey].status_text(), "Pending") << "a re-key is open";
    EXPECT_EQ(rows[rekey].serial, rekey_lsc.facts.serial_hex) << "and the LSC it replaces is still shown";
    EXPECT_EQ(rows[replaced].status_text(), "Pending");
    EXPECT_EQ(rows[replaced].operation_id, std::optional<std::int64_t>(fresh.id));
    EXPECT_EQ(rows[old_server].status_text(), "Failed: key generation not completed: timeout");
    EXPECT_EQ(rows[old_server].cause_class, "failed");

    // Two hours on, the completes-by of `late` has passed; a succeeded session settles nothing else.
    auto later = report({late, installed}, now + 7200);
    EXPECT_EQ(later[late].status, CucmLscStatus::Failed);
    EXPECT_EQ(later[late].cause_class, "timed-out");
    EXPECT_NE(later[late].status_text().find("Failed: timed out: not completed by "), std::string::npos)
        << later[late].status_text();
    EXPECT_EQ(later[installed].status_text(), "Installed");
    // A cancelled re-key leaves the installed LSC as it was.
    ASSERT_TRUE(store.cancel_operation(rekey, "test"));
    EXPECT_EQ(report({rekey}, now)[rekey].status_text(), "Installed");
}

TEST_P(LscReportOnBackends, LastSeenAndMicOnly) {
    const std::string lsc = sep(1), mic = sep(2), both = sep(3), never = sep(4);
    for (const auto& n : {lsc, mic, both, never}) add(n);
    issue(lsc);
    issue(both);
    std::vector<SeenRecord> records = {
        {SeenEvent{lsc, "mic", "10.0.0.1", "r", now - 900}, 1},
        {SeenEvent{lsc, "lsc-valid", "10.0.0.2", "r", now - 60}, 4},
        {SeenEvent{mic, "mic", "10.0.0.3", "r", now - 30}, 2},
        {SeenEvent{both, "mic", "10.0.0.4", "r", now - 10}, 1},
    };
    // Read back from a real last-seen file, as a RADIUS node writes it.
    auto sink = open_sqlite_last_seen(dir / "seen.db");
    ASSERT_TRUE(sink) << sink.message();
    ASSERT_TRUE((*sink)->write(records, "radius1"));
    auto seen = load_last_seen(database, {(dir / "seen.db").string()});
    ASSERT_TRUE(seen) << seen.message();
    auto rows = report({lsc, mic, both, never}, now, &*seen);
    ASSERT_TRUE(rows[lsc].last_seen.has_value());
    EXPECT_EQ(rows[lsc].last_seen->cls, "lsc-valid") << "the newest record wins";
    EXPECT_EQ(rows[lsc].last_seen->nas, "10.0.0.2");
    EXPECT_EQ(rows[lsc].last_seen->at, now - 60);
    EXPECT_EQ(rows[lsc].last_seen->node, "radius1");
    EXPECT_FALSE(rows[lsc].mic_only);
    EXPECT_TRUE(rows[mic].mic_only) << "no LSC, seen with its MIC";
    EXPECT_EQ(rows[mic].status_text(), "Not installed");
    EXPECT_TRUE(rows[both].mic_only) << "an LSC it does not use for 802.1X";
    EXPECT_FALSE(rows[never].last_seen.has_value());
    EXPECT_FALSE(rows[never].mic_only);
    // Without last-seen the columns stay empty.
    EXPECT_FALSE(report({mic}, now)[mic].last_seen.has_value());
}

TEST_P(LscReportOnBackends, ManyDevicesReadByWalksGiveTheSameRows) {
    std::vector<std::string> names;
    for (int i = 1; i <= 70; ++i) {
        names.push_back(sep(i));
        add(names.back(), i % 2 ? "CP-8841" : "CP-8845");
    }
    issue(sep(1));
    record_session(schedule(sep(2)), "failed", "locked-out", "locked out after authentication failures");
    schedule(sep(3));
    const auto walked = report(names, now);
    ASSERT_EQ(walked.size(), 70u);
    const auto one_by_one = report({sep(1), sep(2), sep(3), sep(4)}, now);
    for (const auto& [name, row] : one_by_one) {
        EXPECT_EQ(walked.at(name).status_text(), row.status_text()) << name;
        EXPECT_EQ(walked.at(name).serial, row.serial) << name;
        EXPECT_EQ(walked.at(name).model, row.model) << name;
    }
    EXPECT_EQ(walked.at(sep(2)).status_text(), "Failed: locked out after authentication failures");
    EXPECT_EQ(walked.at(sep(4)).model, "CP-8845");
}

TEST_P(LscReportOnBackends, AnUnknownDeviceIsAnErrorBeforeAnyRow) {
    add(sep(1));
    int rows = 0;
    auto s = each_lsc_report_row(store, {BatchDevice{sep(1), 0, "", ""}, BatchDevice{sep(99), 0, "", ""}}, nullptr, now,
                                 [&](const LscReportRow&) -> Status {
                                     ++rows;
                                     return {};
                                 });
    ASSERT_FALSE(s);
    EXPECT_EQ(s.message(), "no such device: " + sep(99) + " (lscgate device list)");
    EXPECT_EQ(rows, 0);
}

TEST_P(LscReportOnBackends, StaleLscsAreListedAndPurgedAsSuperseded) {
    const std::string young = sep(1), old = sep(2), reenrolled = sep(3), confirmed_meanwhile = sep(4);
    for (const auto& n : {young, old, reenrolled, confirmed_meanwhile}) add(n);
    const auto old_lsc = issue(old, false);
    // A later enrolment whose LSC the phone confirmed: the store supersedes the
    // older unconfirmed one then (it is not stale any more, and RADIUS refuses it).
    const auto left_behind = issue(reenrolled, false);
    issue(reenrolled);
    issue(confirmed_meanwhile, false);
    const UnixTime in_8_days = now + 8 * kDay;
    auto stale = stale_lscs(store, nullptr, in_8_days);
    ASSERT_TRUE(stale) << stale.message();
    ASSERT_EQ(stale->size(), 2u);
    EXPECT_EQ((*stale)[0].device, old);
    EXPECT_EQ((*stale)[0].serial, old_lsc.facts.serial_hex);
    EXPECT_EQ((*stale)[0].sha256, old_lsc.facts.sha256);
    EXPECT_GE((*stale)[0].age_seconds, 8 * kDay - 60);
    EXPECT_FALSE((*stale)[0].superseded_by.has_value()) << "the device has no active LSC";
    EXPECT_EQ((*stale)[1].device, confirmed_meanwhile);
    auto row = store.find_certificate_by_fingerprint(left_behind.facts.sha256);
    ASSERT_TRUE(row && row->has_value());
    EXPECT_EQ((*row)->status, CertificateStatus::Superseded);

    // Old enough, or superseded whatever its age; a young one is kept.
    issue(young, false);
    auto today = stale_lscs(store, nullptr, now + kDay);
    ASSERT_TRUE(today);
    ASSERT_EQ(today->size(), 3u);
    EXPECT_TRUE(purge_candidates(*today, 7 * kDay).empty()) << "a day old";
    EXPECT_EQ(purge_candidates(*stale, 7 * kDay).size(), 2u) << "eight days old";
    StaleLsc superseded = (*today)[0];
    superseded.superseded_by = "0A";
    ASSERT_EQ(purge_candidates({superseded, (*today)[1]}, 7 * kDay).size(), 1u);
    EXPECT_EQ(purge_candidates({superseded, (*today)[1]}, 7 * kDay)[0].device, superseded.device);
    const std::unordered_set<std::string> only{old};
    auto selected = stale_lscs(store, &only, now);
    ASSERT_TRUE(selected);
    ASSERT_EQ(selected->size(), 1u);

    auto revoked = purge_stale_lsc(store, (*stale)[0], "test");
    ASSERT_TRUE(revoked) << revoked.message();
    EXPECT_EQ(revoked->status, CertificateStatus::Revoked);
    EXPECT_EQ(revoked->revocation_reason, "superseded");
    row = store.find_certificate_by_fingerprint(old_lsc.facts.sha256);
    ASSERT_TRUE(row && row->has_value());
    EXPECT_EQ((*row)->status, CertificateStatus::Revoked) << "revoked, never deleted";
    auto audit = store.list_audit(5);
    ASSERT_TRUE(audit);
    EXPECT_TRUE(std::any_of(audit->begin(), audit->end(), [&](const AuditEvent& e) {
        return e.action == "certificate.revoke" && e.device == old && e.actor == "test";
    })) << "audited";

    // Confirmed by its phone after the list was made: never revoked by the purge.
    const StaleLsc listed = (*stale)[1];
    auto op = store.open_operation(store.find_device(confirmed_meanwhile)->value().id);
    ASSERT_TRUE(op && op->has_value());
    ASSERT_TRUE(store.confirm_issued_lsc(**op, listed.certificate_id));
    auto refused = purge_stale_lsc(store, listed, "test");
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.message().find("is active now, not revoked"), std::string::npos) << refused.message();
    auto still = store.active_lsc(confirmed_meanwhile);
    ASSERT_TRUE(still && still->has_value());
    EXPECT_EQ((*still)->id, listed.certificate_id);
}

TEST_P(LscReportOnBackends, ForeignLscsFromLastSeen) {
    const std::string known = sep(1), other = sep(2);
    add(known, "CP-8845");
    std::vector<SeenRecord> records = {
        {SeenEvent{known, "lsc-foreign", "10.0.0.1",
                   "LSC-like certificate from an untrusted CAPF /O=Other Cluster/CN=CAPF-1a2b", now - 100}, 1},
        {SeenEvent{other, "lsc-foreign", "10.0.0.2",
                   other + " LSC serial 0A was issued by /CN=CAPF-old, which is no longer trusted", now - 50}, 1},
        {SeenEvent{sep(3), "lsc-valid", "10.0.0.3", "r", now - 10}, 1},
    };
    auto sink = open_sqlite_last_seen(dir / "seen.db");
    ASSERT_TRUE(sink) << sink.message();
    ASSERT_TRUE((*sink)->write(records, "radius2"));
    auto seen = load_last_seen(database, {(dir / "seen.db").string()});
    ASSERT_TRUE(seen) << seen.message();
    auto foreign = foreign_devices(store, *seen, nullptr);
    ASSERT_TRUE(foreign) << foreign.message();
    ASSERT_EQ(foreign->size(), 2u);
    EXPECT_EQ((*foreign)[0].device, known);
    EXPECT_TRUE((*foreign)[0].registered);
    EXPECT_EQ((*foreign)[0].model, "CP-8845");
    EXPECT_EQ((*foreign)[0].issuer, "/O=Other Cluster/CN=CAPF-1a2b");
    EXPECT_EQ((*foreign)[0].seen.at, now - 100);
    EXPECT_EQ((*foreign)[0].seen.node, "radius2");
    EXPECT_EQ((*foreign)[1].device, other);
    EXPECT_FALSE((*foreign)[1].registered);
    EXPECT_EQ((*foreign)[1].issuer, "/CN=CAPF-old");
    const std::unordered_set<std::string> only{other};
    auto one = foreign_devices(store, *seen, &only);
    ASSERT_TRUE(one);
    ASSERT_EQ(one->size(), 1u);
    EXPECT_EQ((*one)[0].device, other);
}

class AdoptOnBackends : public RegistryFixture {
protected:
    // A fetch operation that recorded `cert` as the phone's certificate.
    void fetched(const std::string& device, const X509* cert, CertificateKind kind = CertificateKind::Lsc) {
        const Operation op = schedule(device, OperationKind::Fetch);
        ASSERT_TRUE(store.commit_fetched_certificate(op, cert, kind));
    }
    AdoptionCheck check(const std::string& device, UnixTime at) {
        auto trust = registry_capf_trust(store);
        EXPECT_TRUE(trust) << trust.message();
        auto c = check_adoption(store, *trust, device, at);
        EXPECT_TRUE(c) << c.message();
        return *c;
    }
};
INSTANTIATE_TEST_SUITE_P(adopt, AdoptOnBackends, ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         backend_name);

TEST_P(AdoptOnBackends, AFetchedLscOfATrustedCapfBecomesActive) {
    // The cluster's CAPF, imported: then this registry's own CAPF is added on top (the imported one is previous).
    ASSERT_TRUE(store.add_capf_certificate(capf.cert.get(), "test"));
    const test::TestCa own = test::make_root_ca("CN=CAPF-lscgate,O=Example");
    ASSERT_TRUE(store.add_capf_certificate(own.cert.get(), "test"));
    const std::string phone = sep(1);
    add(phone);
    auto registry_trust = registry_capf_trust(store);
    ASSERT_TRUE(registry_trust) << registry_trust.message();
    EXPECT_NE(check(phone, now).refused.find("no fetched LSC"), std::string::npos) << "nothing fetched yet";
    auto held = lsc_for(phone, authority);
    fetched(phone, held.get());
    EXPECT_EQ(report({phone}, now)[phone].status_text(), "Not installed") << "a fetched LSC is not installed";
    const AdoptionCheck ok = check(phone, now);
    EXPECT_EQ(ok.refused, "");
    ASSERT_TRUE(ok.certificate.has_value());
    EXPECT_NE(check(phone, now + 400 * kDay).refused.find("expired"), std::string::npos) << "judged at the given time";

    auto adopted = store.adopt_fetched_lsc(ok.certificate->id, "test");
    ASSERT_TRUE(adopted) << adopted.message();
    auto active = store.active_lsc(phone);
    ASSERT_TRUE(active && active->has_value());
    auto facts = describe_certificate(held.get());
    ASSERT_TRUE(facts);
    EXPECT_EQ((*active)->facts.sha256, facts->sha256) << "the phone's own certificate: no new key";
    EXPECT_EQ(report({phone}, now)[phone].status_text(), "Installed");
    auto audit = store.list_audit(5);
    ASSERT_TRUE(audit);
    EXPECT_TRUE(std::any_of(audit->begin(), audit->end(), [&](const AuditEvent& e) {
        return e.action.find("adopt") != std::string::npos && e.device == phone && e.actor == "test";
    })) << "the adoption is audited";
    EXPECT_NE(check(phone, now).refused.find("no fetched LSC"), std::string::npos) << "nothing left to adopt";
}

TEST_P(AdoptOnBackends, RefusedWithTheReason) {
    ASSERT_TRUE(store.add_capf_certificate(capf.cert.get(), "test"));
    const std::string rogue = sep(1), mic = sep(2), borrowed = sep(3), retired = sep(4), rekeyed = sep(5);
    for (const auto& n : {rogue, mic, borrowed, retired, rekeyed}) add(n);
    // From a CAPF the registry does not trust.
    const test::TestCa other = test::make_root_ca("CN=CAPF-elsewhere,O=Other");
    const CapfAuthority other_authority = test::authority_from(other);
    fetched(rogue, lsc_for(rogue, other_authority).get());
    EXPECT_NE(check(rogue, now).refused.find("not an LSC from a trusted CAPF"), std::string::npos)
        << check(rogue, now).refused;
    // The phone answered the fetch with its MIC.
    auto mic_key = test::make_key("ec:p256");
    fetched(mic, test::make_leaf(other, mic_key.get(), "CN=CP-8841-" + mic).get(), CertificateKind::Mic);
    EXPECT_NE(check(mic, now).refused.find("answered the fetch with its MIC"), std::string::npos);
    // Another device's LSC.
    fetched(borrowed, lsc_for(rekeyed, authority).get());
    EXPECT_NE(check(borrowed, now).refused.find("not " + borrowed), std::string::npos) << check(borrowed, now).refused;
    // An active LSC recorded after the fetch: the phone holds that one now.
    fetched(rekeyed, lsc_for(rekeyed, authority).get());
    issue(rekeyed);
    EXPECT_NE(check(rekeyed, now).refused.find("was recorded after this fetch"), std::string::npos);
    // Its CAPF retired: no longer trusted.
    fetched(retired, lsc_for(retired, authority).get());
    EXPECT_EQ(check(retired, now).refused, "");
    const test::TestCa next = test::make_root_ca("CN=CAPF-next,O=Example");
    ASSERT_TRUE(store.add_capf_certificate(next.cert.get(), "test"));
    auto old = describe_certificate(capf.cert.get());
    ASSERT_TRUE(old);
    ASSERT_TRUE(store.retire_capf_certificate(old->sha256.substr(0, 16), "test"));
    EXPECT_NE(check(retired, now).refused.find("not an LSC from a trusted CAPF"), std::string::npos);
    auto all = devices_with_fetched_lsc(store);
    ASSERT_TRUE(all);
    EXPECT_EQ(*all, (std::vector<std::string>{rogue, borrowed, retired, rekeyed}));
}

class ReportFormats : public ::testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(report, ReportFormats, ::testing::Values(0));

TEST_P(ReportFormats, CsvFieldsAreQuotedByLibcsv) {
    EXPECT_EQ(csv_field("SEP001122334455"), "\"SEP001122334455\"");
    EXPECT_EQ(csv_field(""), "\"\"");
    EXPECT_EQ(csv_field("Failed: a, \"b\""), "\"Failed: a, \"\"b\"\"\"");
    EXPECT_EQ(csv_field("two\r\nlines"), "\"two\r\nlines\"");
    std::ostringstream out;
    CsvWriter csv(out);
    csv.row({"device", "status"});
    csv.row({"SEP001122334455", "Not installed"});
    EXPECT_EQ(out.str(), "\"device\",\"status\"\r\n\"SEP001122334455\",\"Not installed\"\r\n");
}

TEST_P(ReportFormats, SeenClassesAreTheDecisionEnginesAndIssuersAreTakenFromReasons) {
    EXPECT_EQ(kSeenClassMic, to_string(CertClass::Mic));
    EXPECT_EQ(kSeenClassLscForeign, to_string(CertClass::LscForeign));
    EXPECT_EQ(foreign_issuer_from_reason("claims to be issued by current CAPF CN=x but was signed by another key (…)"),
              "current CAPF CN=x");
    EXPECT_EQ(foreign_issuer_from_reason("LSC-like certificate from an untrusted CAPF /CN=CAPF-cut-at-256-by"),
              "/CN=CAPF-cut-at-256-by");
    EXPECT_EQ(foreign_issuer_from_reason("SEP1 reuses the serial of SEP2's LSC but is another certificate"), "");
}

}  // namespace
