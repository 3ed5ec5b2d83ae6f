// What the CLI and the web pages share in module/fleet (issues 10 and 14): a
// file as a batch with its errors placed "FILE:LINE:", every bad line and every
// unregistered device listed for a preview, a rollout's plan from its words,
// authentication strings generated per device, the report columns and CSV
// cells, and last-seen read per device from the RADIUS nodes' files.

#include "fleet/device_batch.h"
#include "fleet/last_seen_source.h"
#include "fleet/report_table.h"
#include "fleet/rollout_plan.h"
#include "pki/auth_secret.h"
#include "registry/last_seen_sink.h"
#include "test_support.h"

#include <gtest/gtest.h>

using namespace lscgate;

namespace {

TEST(FleetShared, AFileAsABatchNamesItsSourceAndLine) {
    auto batch = batch_from_text("\xEF\xBB\xBFsep001122334455\r\nSEP001122334466\r\n", "phones.txt");
    ASSERT_TRUE(batch) << batch.message();
    ASSERT_EQ(batch->devices.size(), 2u);
    EXPECT_EQ(batch->devices[0].name, "SEP001122334455");
    EXPECT_EQ(batch->where(batch->devices[1]), "phones.txt:2: ");
    auto quoting = batch_from_text("Device Name\nSEP001122334455\n\"SEP001122334466\n", "export.csv");
    ASSERT_FALSE(quoting);
    EXPECT_EQ(quoting.message().rfind("export.csv:3: ", 0), 0u) << quoting.message();
    auto empty = batch_from_text("\r\n\r\n", "-");
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.message(), "-: no devices in input");
    auto bad = batch_from_text("SEP001122334455\nSEPXYZ\n", "list");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.message().rfind("list:2: ", 0), 0u);
}

TEST(FleetShared, APreviewListsEveryInvalidLineUpToTheLimit) {
    auto input = parse_device_input("SEP001122334455\nbad one\nSEP001122334466\nSEPNOPE\nalso bad!\n");
    ASSERT_TRUE(input) << input.message();
    auto all = invalid_name_lines(*input, "f.txt", 10);
    ASSERT_EQ(all.size(), 3u) << ::testing::PrintToString(all);
    EXPECT_EQ(all[0].rfind("f.txt:2: ", 0), 0u);
    EXPECT_EQ(all[1].rfind("f.txt:4: ", 0), 0u);
    EXPECT_EQ(all[2].rfind("f.txt:5: ", 0), 0u);
    EXPECT_EQ(invalid_name_lines(*input, "f.txt", 2).size(), 2u);
    auto good = parse_device_input("SEP001122334455\n");
    ASSERT_TRUE(good);
    EXPECT_TRUE(invalid_name_lines(*good, "f.txt", 10).empty());
}

TEST(FleetShared, RegistrationProblemsNameEveryDeviceTheRegistryContradicts) {
    test::TempDir dir;
    Store store = test::make_store(dir / "lscgate.db");
    ASSERT_TRUE(store.add_device("SEP001122334455", "CP-8841", "", "test"));
    auto batch = batch_from_text("SEP001122334455\nSEP0011223344AA\nSEP0011223344BB\n", "f.txt");
    ASSERT_TRUE(batch);
    auto missing = registration_problems(store, *batch, Registered::MustExist, 10);
    ASSERT_TRUE(missing) << missing.message();
    ASSERT_EQ(missing->size(), 2u);
    EXPECT_EQ((*missing)[0], "f.txt:2: no such device: SEP0011223344AA (add it with 'lscgate device add')");
    EXPECT_EQ((*missing)[1].rfind("f.txt:3: no such device: SEP0011223344BB", 0), 0u);
    auto existing = registration_problems(store, *batch, Registered::MustNotExist, 10);
    ASSERT_TRUE(existing);
    EXPECT_EQ(*existing, std::vector<std::string>{"f.txt:1: device SEP001122334455 already exists"});
    auto first = check_registered(store, *batch, Registered::MustExist);
    ASSERT_FALSE(first);
    EXPECT_EQ(first.kind(), ErrorKind::Input);
    EXPECT_EQ(first.message(), (*missing)[0]);
    EXPECT_EQ(registration_problems(store, *batch, Registered::MustExist, 1)->size(), 1u);
}

TEST(FleetShared, ARolloutPlanFromItsWordsAcceptsWhatTheCliAccepts) {
    std::vector<std::string> warnings;
    auto absolute = rollout_plan_from({"r1", "install", "null", "rsa:2048", "2030-01-01T00:00", false, 10}, warnings);
    ASSERT_FALSE(absolute);
    EXPECT_NE(absolute.message().find("a duration after each wave"), std::string::npos);
    EXPECT_FALSE(rollout_plan_from({"r1", "install", "null", "rsa:2048", "+0s", false, 10}, warnings));
    EXPECT_FALSE(rollout_plan_from({"bad name", "install", "null", "rsa:2048", "", false, 10}, warnings));
    EXPECT_FALSE(rollout_plan_from({"r1", "none", "null", "rsa:2048", "", false, 10}, warnings));
    EXPECT_FALSE(rollout_plan_from({"r1", "install", "null", "rsa:2048", "", false, 0}, warnings));
    EXPECT_FALSE(rollout_plan_from({"r1", "install", "null", "rsa:1024", "", false, 10}, warnings));
    EXPECT_TRUE(warnings.empty());
    auto weak = rollout_plan_from({"r1", "install", "null", "rsa:1024", "+7d", true, 10}, warnings);
    ASSERT_TRUE(weak) << weak.message();
    EXPECT_EQ(warnings.size(), 1u);
    EXPECT_EQ(weak->by_seconds, std::optional<std::int64_t>(7 * 86400));
    auto fixed = rollout_plan_from({"r2", "install", "string:12345678", "ec:p256", "", false, 10}, warnings);
    ASSERT_TRUE(fixed) << fixed.message();
    EXPECT_FALSE(fixed->generate_strings);
    EXPECT_TRUE(verify_auth_string("12345678", fixed->request.auth_secret_hash));
    auto generated = rollout_plan_from({"r3", "install", "string", "ec:p256", "", false, 10}, warnings);
    ASSERT_TRUE(generated);
    EXPECT_TRUE(generated->generate_strings);
    EXPECT_TRUE(generated->request.auth_secret_hash.empty());

    GeneratedStrings strings;
    auto fn = strings.fn();
    auto r = fn("SEP001122334455", generated->request);
    ASSERT_TRUE(r) << r.message();
    const std::string digits = strings.of("SEP001122334455");
    EXPECT_EQ(digits.size(), 8u);
    EXPECT_TRUE(verify_auth_string(digits, r->auth_secret_hash));
    auto kept = fn("SEP001122334466", fixed->request);  // a fixed string is used as it is
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept->auth_secret_hash, fixed->request.auth_secret_hash);
    EXPECT_EQ(strings.of("SEP001122334466"), "");

    // Prepared before a wave run: the run takes the prepared string, hashing nothing.
    GeneratedStrings early;
    ASSERT_TRUE(early.prepare({"SEP0011223344AA"}));
    EXPECT_EQ(early.of("SEP0011223344AA"), "");  // not shown before it was used
    auto used = early.fn()("SEP0011223344AA", generated->request);
    ASSERT_TRUE(used);
    const std::string prepared = early.of("SEP0011223344AA");
    EXPECT_EQ(prepared.size(), 8u);
    EXPECT_TRUE(verify_auth_string(prepared, used->auth_secret_hash));
}

TEST(FleetShared, ReportCellsAreTheSameInEveryOutput) {
    const nlohmann::json row = {{"device", "SEP001122334455"}, {"days_left", 12}, {"mic_only", true},
                                {"serial", nullptr},           {"cause", "a, \"b\""}};
    EXPECT_EQ(report_cell(row, "device", "-"), "SEP001122334455");
    EXPECT_EQ(report_cell(row, "days_left", "-"), "12");
    EXPECT_EQ(report_cell(row, "mic_only", "-"), "yes");
    EXPECT_EQ(report_cell(row, "serial", "-"), "-");
    EXPECT_EQ(report_cell(row, "absent", ""), "");
    const std::vector<ReportColumn> columns = {{"device", "DEVICE", 16}, {"serial", "SERIAL", 0}, {"cause", "C", 0}};
    EXPECT_EQ(report_csv_header(columns), (std::vector<std::string>{"device", "serial", "cause"}));
    EXPECT_EQ(report_csv_fields(columns, row), (std::vector<std::string>{"SEP001122334455", "", "a, \"b\""}));
    LscReportRow lsc;
    lsc.device = "SEP001122334455";
    lsc.status = CucmLscStatus::Failed;
    lsc.cause = "wrong authentication string";
    const auto j = lsc_report_json(lsc);
    EXPECT_EQ(report_cell(j, "status", ""), "Failed: wrong authentication string");
    EXPECT_EQ(report_cell(j, "mic_only", ""), "no");
    std::vector<std::string> keys;
    for (const auto& c : lsc_report_columns()) keys.push_back(c.key);
    EXPECT_EQ(keys, (std::vector<std::string>{"device", "model", "serial", "issuer", "not_after", "days_left",
                                              "seen_class", "seen_nas", "seen_at", "mic_only", "cause_class",
                                              "operation_id", "status"}));
}

TEST(FleetShared, SightingsOfOneDeviceComeFromEveryNodesFileNewestFirst) {
    test::TempDir dir;
    EXPECT_FALSE((LastSeenSource{(dir / "lscgate.db").string(), {}}.available()));
    EXPECT_TRUE((LastSeenSource{"postgresql://localhost/lscgate", {}}.available()));
    const std::string a = (dir / "a.db").string(), b = (dir / "b.db").string();
    for (const auto& [file, node, cls, at] : {std::tuple{a, "node-a", "mic", 100}, std::tuple{b, "node-b", "lsc-valid", 200}}) {
        auto sink = open_sqlite_last_seen(file);
        ASSERT_TRUE(sink) << sink.message();
        SeenRecord one{{"SEP001122334455", cls, "192.0.2.1", "reason", at}, 1};
        SeenRecord other{{"SEP0011223344AA", "mic", "192.0.2.2", "reason", at}, 1};
        ASSERT_TRUE((*sink)->write({one, other}, node));
    }
    const LastSeenSource source{(dir / "lscgate.db").string(), {a, b}};
    auto rows = device_sightings(source, "SEP001122334455");
    ASSERT_TRUE(rows) << rows.message();
    ASSERT_EQ(rows->size(), 2u);
    EXPECT_EQ((*rows)[0].last.node, "node-b");
    EXPECT_EQ((*rows)[0].last.cls, "lsc-valid");
    EXPECT_EQ((*rows)[1].last.node, "node-a");
    auto index = read_last_seen_index(source);
    ASSERT_TRUE(index);
    EXPECT_EQ(count_seen_with_mic(*index), 1u);  // SEP…55 was seen last with its LSC
    auto none = device_sightings({(dir / "lscgate.db").string(), {}}, "SEP001122334455");
    ASSERT_FALSE(none);
    EXPECT_EQ(none.kind(), ErrorKind::Config);
}

}  // namespace
