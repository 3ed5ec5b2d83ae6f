// The fleet pages of `lscgate web` (issue 14) without the network: the bulk
// page (upload, preview naming every bad line, dry run, apply at once and in
// waves, helpdesk previews but never applies), the reports page and its CSV
// (the columns and cells of `lscgate report --csv`), the dashboard's rollout
// progress and MIC-seen count, the device page's CAPF sessions with their cause
// class and its RADIUS sightings, and the audit page's verdict on a broken chain.

#include "fleet/last_seen_source.h"
#include "registry/sqlite_handles.h"
#include "web_app_fixture.h"

namespace lscgate::web {
namespace {

class WebFleetPagesTest : public WebAppFixture {
protected:
    void admin_signed_in() {
        account("alice", WebRole::Admin, "alice password 1");
        ASSERT_EQ(sign_in("alice", "alice password 1").status, 303);
    }
    // A multipart POST of the bulk form: `file` uploaded as `filename`.
    WebResponse bulk(const std::string& step, const std::string& filename, const std::string& file,
                     std::map<std::string, std::string> fields) {
        fields.emplace("csrf", csrf());
        fields.emplace("operation", "install");
        fields.emplace("auth", "null");
        fields.emplace("key", "rsa:2048");
        return request("POST", "/bulk/" + step, std::move(fields), {{"file", WebUpload{filename, file}}});
    }
    std::size_t open_operations() {
        auto ops = check.list_operations(std::nullopt, false);
        return ops ? ops->size() : 999;
    }
    static std::size_t count(const std::string& body, const std::string& what) {
        std::size_t n = 0;
        for (auto at = body.find(what); at != std::string::npos; at = body.find(what, at + 1)) ++n;
        return n;
    }
};

TEST_F(WebFleetPagesTest, ABadLineRefusesTheWholeBatchAndTheLineIsNamed) {
    add_device("SEP0000000000B1");
    add_device("SEP0000000000B2");
    admin_signed_in();
    const std::string csv = "Device Name,Description,Device Type\r\n"
                            "SEP0000000000B1,Lobby,Cisco 8841\r\n"
                            "SEPNOTAPHONE,Broken,Cisco 8841\r\n"
                            "SEP0000000000B2,Desk,Cisco 8841\r\n"
                            "not-a-name-either,,\r\n";
    for (const char* step : {"preview", "apply"}) {
        auto r = bulk(step, "C:\\fakepath\\phones.csv", csv, {});
        EXPECT_EQ(r.status, 400) << step;
        EXPECT_NE(r.body.find("id=\"refused\""), std::string::npos) << step;
        EXPECT_NE(r.body.find("phones.csv:3: "), std::string::npos) << r.body;  // the base name, the line
        EXPECT_NE(r.body.find("phones.csv:5: "), std::string::npos);            // every bad line, not only the first
        EXPECT_EQ(r.body.find("apply-form"), std::string::npos);
    }
    EXPECT_EQ(open_operations(), 0u);
    // Names that are valid but not registered: named with their lines too.
    auto unknown = bulk("preview", "phones.txt", "SEP0000000000B1\nSEP0000000000FE\n", {});
    EXPECT_EQ(unknown.status, 400);
    EXPECT_NE(unknown.body.find("phones.txt:2: no such device: SEP0000000000FE"), std::string::npos) << unknown.body;
    // Malformed CSV: the parser's own line.
    auto quoting = bulk("preview", "bad.csv", "Device Name\nSEP0000000000B1\n\"SEP0000000000B2\n", {});
    EXPECT_EQ(quoting.status, 400);
    EXPECT_NE(quoting.body.find("bad.csv:3: "), std::string::npos) << quoting.body;
    auto empty = bulk("preview", "empty.csv", "Device Name\r\n\r\n", {});
    EXPECT_NE(empty.body.find("empty.csv: no devices in input"), std::string::npos) << empty.body;
    EXPECT_EQ(open_operations(), 0u);
}

TEST_F(WebFleetPagesTest, PreviewIsADryRunAndApplySchedulesWithStringsShownOnce) {
    add_device("SEP0000000000B3");
    add_device("SEP0000000000B4");
    admin_signed_in();
    const std::string list = "\xEF\xBB\xBFsep0000000000b3\r\nSEP0000000000B4\r\n\r\nSEP0000000000B3\r\n";
    auto preview = bulk("preview", "list.txt", list, {{"auth", "string"}, {"by", "+7d"}});
    ASSERT_EQ(preview.status, 200) << preview.body;
    EXPECT_NE(preview.body.find("id=\"dry-run\">Dry run: 2 devices"), std::string::npos) << preview.body;
    EXPECT_NE(preview.body.find("SEP0000000000B3 is listed on lines 1 and 4 of list.txt; acting on it once"),
              std::string::npos);
    EXPECT_NE(preview.body.find("apply-form"), std::string::npos);
    EXPECT_EQ(open_operations(), 0u);  // a dry run

    // The preview's Apply form sends the file back as text.
    auto applied = request("POST", "/bulk/apply",
                           {{"csrf", csrf()}, {"source", "list.txt"}, {"text", list}, {"operation", "install"},
                            {"auth", "string"}, {"key", "ec:p256"}, {"by", "+7d"}});
    ASSERT_EQ(applied.status, 200) << applied.body;
    EXPECT_NE(applied.body.find("Scheduled 2 of 2 devices."), std::string::npos) << applied.body;
    std::smatch m;
    std::string body = applied.body;
    std::vector<std::string> strings;
    while (std::regex_search(body, m, std::regex("class=\"auth-string\">([0-9]{8})<"))) {
        strings.push_back(m[1]);
        body = m.suffix();
    }
    ASSERT_EQ(strings.size(), 2u);
    auto ops = check.list_operations(std::nullopt, false);
    ASSERT_TRUE(ops);
    ASSERT_EQ(ops->size(), 2u);
    for (const auto& op : *ops) {
        EXPECT_EQ(op.request.auth_mode, AuthMode::String);
        EXPECT_EQ(op.request.key.to_string(), "ec:p256");
        EXPECT_TRUE(op.request.completes_by);
        for (const auto& s : strings) EXPECT_EQ(op.request.auth_secret_hash.find(s), std::string::npos);
    }
    EXPECT_TRUE(has(audit_actions(), "web:alice operation.schedule"));
    for (const auto& s : strings) EXPECT_EQ(get("/device", {{"name", "SEP0000000000B3"}}).body.find(s), std::string::npos);

    // Cancel from a file: every device must have an open operation.
    auto cancel = request("POST", "/bulk/apply",
                          {{"csrf", csrf()}, {"source", "list.txt"}, {"text", list}, {"operation", "cancel"}});
    ASSERT_EQ(cancel.status, 200) << cancel.body;
    EXPECT_EQ(open_operations(), 0u);
    auto again = request("POST", "/bulk/preview",
                         {{"csrf", csrf()}, {"source", "list.txt"}, {"text", list}, {"operation", "cancel"}});
    EXPECT_EQ(again.status, 400);
    EXPECT_NE(again.body.find("list.txt:1: SEP0000000000B3 has no open operation to cancel"), std::string::npos);
}

TEST_F(WebFleetPagesTest, WavesMakeARolloutWhoseProgressTheDashboardShows) {
    for (const char* n : {"SEP0000000000C1", "SEP0000000000C2", "SEP0000000000C3"}) add_device(n);
    admin_signed_in();
    const std::string list = "SEP0000000000C1\nSEP0000000000C2\nSEP0000000000C3\n";
    auto absolute = bulk("preview", "w.txt", list, {{"wave_size", "2"}, {"rollout", "lobby"}, {"by", "2030-01-01T00:00"}});
    EXPECT_EQ(absolute.status, 400);  // a rollout's deadline is a duration, as the CLI says
    EXPECT_NE(absolute.body.find("a duration after each wave"), std::string::npos) << absolute.body;
    auto preview = bulk("preview", "w.txt", list, {{"wave_size", "2"}, {"rollout", "lobby"}, {"by", "+7d"}});
    ASSERT_EQ(preview.status, 200) << preview.body;
    EXPECT_NE(preview.body.find("<td>wave 2</td>"), std::string::npos);
    auto applied = bulk("apply", "w.txt", list, {{"wave_size", "2"}, {"rollout", "lobby"}, {"by", "+7d"}});
    ASSERT_EQ(applied.status, 200) << applied.body;
    EXPECT_NE(applied.body.find("Rollout lobby: 3 devices in 2 waves; wave 1 scheduled: 2 scheduled, 0 skipped."),
              std::string::npos)
        << applied.body;
    EXPECT_EQ(open_operations(), 2u);
    auto dash = get("/").body;
    EXPECT_NE(dash.find("id=\"rollout-lobby\""), std::string::npos) << dash;
    EXPECT_NE(dash.find("<td class=\"pending\">2</td><td class=\"waiting\">1</td>"), std::string::npos) << dash;
    EXPECT_NE(dash.find("Next wave (2)"), std::string::npos);
    auto twice = bulk("preview", "w.txt", list, {{"wave_size", "2"}, {"rollout", "lobby"}});
    EXPECT_NE(twice.body.find("rollout lobby already exists"), std::string::npos);
    auto next = post("/rollout/next", {{"name", "lobby"}, {"wave", "2"}, {"csrf", csrf()}});
    ASSERT_EQ(next.status, 200) << next.body;
    EXPECT_EQ(open_operations(), 3u);
    dash = get("/").body;
    EXPECT_NE(dash.find("<td class=\"pending\">3</td><td class=\"waiting\">0</td>"), std::string::npos);
    EXPECT_EQ(dash.find("Next wave ("), std::string::npos);  // every wave is scheduled
    EXPECT_EQ(post("/rollout/next", {{"name", "lobby"}, {"wave", "3"}, {"csrf", csrf()}}).status, 400);
}

// The Next wave button names its wave: submitted twice (a double click, a
// reload that re-posts it, two admins at once), the second is refused and the
// wave after it is not scheduled behind the admin's back.
TEST_F(WebFleetPagesTest, NextWaveSubmittedTwiceSchedulesOneWave) {
    for (const char* n : {"SEP0000000000E1", "SEP0000000000E2", "SEP0000000000E3"}) add_device(n);
    admin_signed_in();
    const std::string list = "SEP0000000000E1\nSEP0000000000E2\nSEP0000000000E3\n";
    ASSERT_EQ(bulk("apply", "t.txt", list, {{"wave_size", "1"}, {"rollout", "twice"}}).status, 200);
    EXPECT_EQ(open_operations(), 1u);
    const std::string dash = get("/").body;
    EXPECT_NE(dash.find("name=\"wave\" value=\"2\""), std::string::npos) << dash;  // the button names its wave
    const std::string token = csrf();
    ASSERT_EQ(post("/rollout/next", {{"name", "twice"}, {"wave", "2"}, {"csrf", token}}).status, 200);
    EXPECT_EQ(open_operations(), 2u);
    auto again = post("/rollout/next", {{"name", "twice"}, {"wave", "2"}, {"csrf", token}});
    EXPECT_EQ(again.status, 409) << again.body;
    EXPECT_NE(again.body.find("wave 2 is already scheduled (the next is wave 3)"), std::string::npos) << again.body;
    EXPECT_EQ(open_operations(), 2u);  // wave 3 was not scheduled
    // A form that names no wave schedules nothing either.
    EXPECT_EQ(post("/rollout/next", {{"name", "twice"}, {"csrf", token}}).status, 400);
    EXPECT_EQ(open_operations(), 2u);
}

TEST_F(WebFleetPagesTest, WavesGenerateAStringPerDeviceShownOnce) {
    for (const char* n : {"SEP0000000000D1", "SEP0000000000D2", "SEP0000000000D3"}) add_device(n);
    admin_signed_in();
    const std::string list = "SEP0000000000D1\nSEP0000000000D2\nSEP0000000000D3\n";
    auto strings_in = [](std::string body) {
        std::vector<std::string> out;
        std::smatch m;
        while (std::regex_search(body, m, std::regex("class=\"auth-string\">([0-9]{8})<"))) {
            out.push_back(m[1]);
            body = m.suffix();
        }
        return out;
    };
    auto applied = bulk("apply", "s.txt", list, {{"wave_size", "2"}, {"rollout", "strings"}, {"auth", "string"}});
    ASSERT_EQ(applied.status, 200) << applied.body;
    const auto first = strings_in(applied.body.substr(applied.body.find("id=\"applied\"")));
    EXPECT_EQ(first.size(), 2u);
    auto next = post("/rollout/next", {{"name", "strings"}, {"wave", "2"}, {"csrf", csrf()}});
    ASSERT_EQ(next.status, 200) << next.body;
    EXPECT_NE(next.body.find("Scheduled install for SEP0000000000D3, authentication string "), std::string::npos)
        << next.body;
    auto ops = check.list_operations(std::nullopt, false);
    ASSERT_TRUE(ops);
    ASSERT_EQ(ops->size(), 3u);
    for (const auto& op : *ops) EXPECT_FALSE(op.request.auth_secret_hash.empty());
}

TEST_F(WebFleetPagesTest, HelpdeskPreviewsButNeverApplies) {
    add_device("SEP0000000000C4");
    account("hugo", WebRole::Helpdesk, "hugo password 12");
    ASSERT_EQ(sign_in("hugo", "hugo password 12").status, 303);
    auto preview = bulk("preview", "h.txt", "SEP0000000000C4\n", {});
    EXPECT_EQ(preview.status, 200);
    EXPECT_EQ(preview.body.find("apply-form"), std::string::npos);
    EXPECT_EQ(bulk("apply", "h.txt", "SEP0000000000C4\n", {}).status, 403);
    EXPECT_EQ(post("/rollout/next", {{"name", "any"}, {"csrf", csrf()}}).status, 403);
    EXPECT_EQ(open_operations(), 0u);
    // Without the token even a preview is refused.
    EXPECT_EQ(request("POST", "/bulk/preview", {{"text", "SEP0000000000C4"}}).status, 403);
}

TEST_F(WebFleetPagesTest, TheReportCsvHasTheCliColumnsQuotedByLibcsv) {
    add_device("SEP0000000000C5", "CP-8841", "lobby, \"east\"");
    add_device("SEP0000000000C6", "CP-7945");
    give_lsc("SEP0000000000C5");
    admin_signed_in();
    auto csv = get("/reports.csv", {{"report", "lsc"}});
    ASSERT_EQ(csv.status, 200) << csv.body;
    EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
    EXPECT_EQ(csv.download_name, "lscgate-report-lsc.csv");
    EXPECT_EQ(csv.body.substr(0, csv.body.find("\r\n")),
              "\"device\",\"model\",\"serial\",\"issuer\",\"not_after\",\"days_left\",\"seen_class\",\"seen_nas\","
              "\"seen_at\",\"mic_only\",\"cause_class\",\"operation_id\",\"status\"");
    EXPECT_NE(csv.body.find("\r\n\"SEP0000000000C5\",\"CP-8841\",\""), std::string::npos);
    EXPECT_NE(csv.body.find("\"no\",\"\",\"1\",\"Installed\"\r\n"), std::string::npos) << csv.body;
    EXPECT_NE(csv.body.find("\"SEP0000000000C6\",\"CP-7945\",\"\""), std::string::npos);
    EXPECT_EQ(count(csv.body, "\r\n"), 3u);
    auto filtered = get("/reports", {{"report", "lsc"}, {"model", "CP-7945"}});
    ASSERT_EQ(filtered.status, 200);
    EXPECT_NE(filtered.body.find("SEP0000000000C6"), std::string::npos);
    EXPECT_EQ(filtered.body.find("SEP0000000000C5"), std::string::npos);
    EXPECT_NE(filtered.body.find("id=\"seen-note\""), std::string::npos);  // a SQLite registry without [web] last_seen
    auto none = get("/reports", {{"report", "lsc"}, {"lsc", "revoked"}});
    EXPECT_NE(none.body.find("no device matches lsc=revoked"), std::string::npos) << none.body;
    EXPECT_EQ(get("/reports", {{"report", "foreign"}}).status, 409);  // needs last-seen
    EXPECT_EQ(get("/reports", {{"report", "nonsense"}}).status, 400);
    auto stale = get("/reports.csv", {{"report", "stale"}});
    EXPECT_EQ(stale.body, "\"device\",\"serial\",\"issued_at\",\"age_days\",\"sha256\",\"superseded_by\"\r\n");
}

TEST_F(WebFleetPagesTest, TheDevicePageShowsSessionsWithCausesAndRadiusSightings) {
    add_device("SEP0000000000C7");
    add_device("SEP0000000000C8");
    CapfSessionRecord s;
    s.at = now - 60;
    s.device = "SEP0000000000C7";
    s.operation = "install";
    s.auth_mode = "string";
    s.result = "rejected";
    s.cause_class = "wrong-string";
    s.cause = "authentication failed: wrong <authentication> string";
    s.peer = "192.0.2.7:50000";
    ASSERT_TRUE(check.record_capf_session(s));
    const auto seen_file = (dir / "seen.db").string();
    {
        auto sink = open_sqlite_last_seen(seen_file);
        ASSERT_TRUE(sink) << sink.message();
        SeenRecord mic{{"SEP0000000000C7", "mic", "192.0.2.1", "MIC only", now - 30, "00:11:22:33:44:55", "Gi1/0/7"}, 3};
        SeenRecord lsc{{"SEP0000000000C8", "lsc-valid", "192.0.2.1", "LSC", now - 20}, 1};
        ASSERT_TRUE((*sink)->write({mic, lsc}, "radius-a"));
    }
    admin_signed_in();
    auto page = get("/device", {{"name", "SEP0000000000C7"}}).body;
    EXPECT_NE(page.find("<td class=\"cause-class\">wrong-string</td>"), std::string::npos) << page;
    EXPECT_NE(page.find("wrong &lt;authentication&gt; string"), std::string::npos);
    EXPECT_NE(page.find("Not known: a SQLite registry holds no last-seen"), std::string::npos);
    EXPECT_NE(get("/").body.find("Not known: a SQLite registry holds no last-seen"), std::string::npos);

    last_seen_files = {seen_file};
    reopen();
    ASSERT_EQ(sign_in("alice", "alice password 1").status, 303);
    page = get("/device", {{"name", "SEP0000000000C7"}}).body;
    EXPECT_NE(page.find("<td class=\"seen-class\">mic</td>"), std::string::npos) << page;
    EXPECT_NE(page.find("Gi1/0/7"), std::string::npos);
    EXPECT_NE(page.find("<td>radius-a</td>"), std::string::npos);
    EXPECT_NE(get("/device", {{"name", "SEP0000000000C8"}}).body.find("lsc-valid"), std::string::npos);
    auto dash = get("/").body;
    EXPECT_NE(dash.find("1 phones</a> authenticated at RADIUS with their MIC last (of 2 seen)"), std::string::npos) << dash;
    auto mic_report = get("/reports", {{"report", "lsc"}, {"seen", "mic"}}).body;
    EXPECT_NE(mic_report.find("SEP0000000000C7"), std::string::npos);
    EXPECT_EQ(mic_report.find("SEP0000000000C8"), std::string::npos);
}

TEST_F(WebFleetPagesTest, TheAuditPageSaysWhereTheChainIsBroken) {
    add_device("SEP0000000000C9");
    add_device("SEP0000000000CA");
    admin_signed_in();
    EXPECT_NE(get("/audit").body.find("id=\"chain-state\">Intact"), std::string::npos);
    {
        auto raw = SqliteDatabase::open(db, SqliteDatabase::Mode::ReadWrite, 5000);
        ASSERT_TRUE(raw) << raw.message();
        ASSERT_TRUE(raw->exec("DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete"));
        ASSERT_TRUE(raw->exec("UPDATE audit SET detail = 'edited' WHERE device = 'SEP0000000000C9'"));
    }
    const std::string page = get("/audit").body;
    EXPECT_NE(page.find("class=\"error\" id=\"chain-state\">Broken at row"), std::string::npos) << page;
}

}  // namespace
}  // namespace lscgate::web
