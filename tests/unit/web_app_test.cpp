// The web pages end to end without the network (issue 14; web/web_app.h):
// WebApp::handle over a real SQLite registry, with a small cookie jar standing
// in for the browser. Sign-in and its cookie attributes, the lockout after five
// wrong passwords, CSRF refusals, helpdesk refused server-side (403), schedule
// with a generated string shown once, cancel, revoke, every registry value
// escaped (a description holding <script>), keyset paging, sessions ended by a
// password change, and an exception in a page becoming a bare 500.

#include "web_app_fixture.h"

#include <stdexcept>

namespace lscgate::web {
namespace {

class WebAppTest : public WebAppFixture {};

TEST_F(WebAppTest, SignInSetsAStrictSessionCookieAndSignOutEndsIt) {
    account("alice", WebRole::Admin, "alice password 1");
    auto anonymous = get("/");
    EXPECT_EQ(anonymous.status, 303);
    EXPECT_EQ(anonymous.location, "/login");
    auto form = get("/login");
    EXPECT_EQ(form.status, 200);
    ASSERT_EQ(form.set_cookies.size(), 1u);
    EXPECT_EQ(form.set_cookies[0].rfind("__Host-lscgate-login=", 0), 0u);
    const std::string token = csrf_of(form.body);
    ASSERT_FALSE(token.empty());
    auto in = post("/login", {{"name", "alice"}, {"password", "alice password 1"}, {"csrf", token}});
    ASSERT_EQ(in.status, 303);
    EXPECT_EQ(in.location, "/");
    ASSERT_FALSE(in.set_cookies.empty());
    EXPECT_TRUE(std::regex_match(in.set_cookies[0], std::regex("__Host-lscgate=[0-9a-f]{64}; Path=/; Secure; HttpOnly; "
                                                                "SameSite=Strict")))
        << in.set_cookies[0];
    auto home = get("/");
    EXPECT_EQ(home.status, 200);
    EXPECT_NE(home.body.find("Dashboard"), std::string::npos);
    EXPECT_NE(home.body.find("alice (admin)"), std::string::npos);
    EXPECT_TRUE(has(audit_actions(), "web:alice web.login"));

    auto out = post("/logout", {{"csrf", csrf_of(home.body)}});
    EXPECT_EQ(out.status, 303);
    EXPECT_EQ(out.location, "/login");
    EXPECT_EQ(get("/").status, 303);
    EXPECT_TRUE(has(audit_actions(), "web:alice web.logout"));
}

TEST_F(WebAppTest, TheSignInFormKeepsItsTokenAcrossReloadsAndNeedsIt) {
    const std::string first = csrf_of(get("/login").body);
    // A second tab, or a favicon a browser fetched after the form: the same token.
    EXPECT_EQ(get("/favicon.ico").status, 404);
    EXPECT_EQ(csrf_of(get("/login").body), first);
    account("alice", WebRole::Admin, "alice password 1");
    EXPECT_EQ(post("/login", {{"name", "alice"}, {"password", "alice password 1"}, {"csrf", first}}).status, 303);
}

TEST_F(WebAppTest, TheSignInFormNeedsItsOwnToken) {
    account("alice", WebRole::Admin, "alice password 1");
    get("/login");
    auto forged = post("/login", {{"name", "alice"}, {"password", "alice password 1"}});
    EXPECT_EQ(forged.status, 403);
    EXPECT_FALSE(jar.count(std::string(kSessionCookie)));
}

TEST_F(WebAppTest, FiveWrongPasswordsLockTheAccount) {
    account("alice", WebRole::Admin, "alice password 1");
    for (int i = 0; i < 5; ++i) EXPECT_EQ(sign_in("alice", "wrong password " + std::to_string(i)).status, 401) << i;
    auto locked = sign_in("alice", "alice password 1");
    EXPECT_EQ(locked.status, 401);
    EXPECT_NE(locked.body.find("Sign-in refused"), std::string::npos);
    auto row = check.find_web_account("alice");
    ASSERT_TRUE(row && row->has_value());
    ASSERT_TRUE((*row)->locked_until);
    EXPECT_GE(*(*row)->locked_until, now + 900);
    const auto actions = audit_actions();
    EXPECT_TRUE(has(actions, "web:alice web.lockout"));
    EXPECT_TRUE(has(actions, "web:alice web.login-refused"));
    EXPECT_FALSE(has(actions, "web:alice web.login"));
    // An unknown name gets the same answer, and its name is not written anywhere.
    auto unknown = sign_in("password-typed-as-name", "x");
    EXPECT_EQ(unknown.status, 401);
    auto rows = check.list_audit(200);
    ASSERT_TRUE(rows);
    for (const auto& e : *rows) EXPECT_EQ(e.detail.find("password-typed-as-name"), std::string::npos);
}

TEST_F(WebAppTest, APostWithoutTheCsrfTokenIsRefused) {
    account("alice", WebRole::Admin, "alice password 1");
    add_device("SEP0000000000D1");
    ASSERT_EQ(sign_in("alice", "alice password 1").status, 303);
    auto none = post("/device/schedule", {{"name", "SEP0000000000D1"}, {"kind", "install"}, {"auth", "null"},
                                          {"key", "rsa:2048"}});
    EXPECT_EQ(none.status, 403);
    EXPECT_NE(none.body.find("CSRF"), std::string::npos);
    auto wrong = post("/device/schedule", {{"name", "SEP0000000000D1"}, {"kind", "install"}, {"auth", "null"},
                                           {"key", "rsa:2048"}, {"csrf", std::string(64, 'a')}});
    EXPECT_EQ(wrong.status, 403);
    EXPECT_EQ(post("/logout").status, 403);
    auto ops = check.list_operations(std::nullopt, true);
    ASSERT_TRUE(ops);
    EXPECT_TRUE(ops->empty());
}

TEST_F(WebAppTest, HelpdeskReadsButCannotChangeAnything) {
    account("hugo", WebRole::Helpdesk, "hugo password 12");
    add_device("SEP0000000000D2");
    give_lsc("SEP0000000000D2");
    ASSERT_EQ(sign_in("hugo", "hugo password 12").status, 303);
    auto page = get("/device", {{"name", "SEP0000000000D2"}});
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(page.body.find("schedule-form"), std::string::npos);
    EXPECT_EQ(page.body.find("revoke-form"), std::string::npos);
    const std::string token = csrf_of(page.body);  // the sign-out form's
    ASSERT_FALSE(token.empty());
    for (const char* path : {"/device/schedule", "/device/cancel", "/device/revoke"}) {
        auto r = post(path, {{"name", "SEP0000000000D2"}, {"kind", "install"}, {"auth", "null"}, {"key", "rsa:2048"},
                             {"reason", "key-compromise"}, {"csrf", token}});
        EXPECT_EQ(r.status, 403) << path;
    }
    auto active = check.active_lsc("SEP0000000000D2");
    ASSERT_TRUE(active);
    EXPECT_TRUE(active->has_value());  // not revoked
    auto open = check.list_operations(std::string("SEP0000000000D2"), false);
    ASSERT_TRUE(open);
    EXPECT_TRUE(open->empty());  // nothing scheduled
    EXPECT_EQ(get("/audit").status, 200);
    EXPECT_EQ(get("/devices").status, 200);
}

TEST_F(WebAppTest, AScheduleWithAGeneratedStringShowsItOnceAndIsPending) {
    account("alice", WebRole::Admin, "alice password 1");
    add_device("SEP0000000000D3");
    ASSERT_EQ(sign_in("alice", "alice password 1").status, 303);
    auto done = post("/device/schedule", {{"name", "SEP0000000000D3"}, {"kind", "install"}, {"auth", "string"},
                                          {"key", "ec:p256"}, {"by", "+7d"}, {"csrf", csrf()}});
    ASSERT_EQ(done.status, 200) << done.body;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(done.body, m, std::regex("id=\"auth-string\">([0-9]{8})<")));
    const std::string digits = m[1];
    auto ops = check.list_operations(std::string("SEP0000000000D3"), false);
    ASSERT_TRUE(ops);
    ASSERT_EQ(ops->size(), 1u);
    const Operation& op = ops->front();
    EXPECT_EQ(op.state, OperationState::Pending);
    EXPECT_EQ(op.request.auth_mode, AuthMode::String);
    EXPECT_EQ(op.request.key.to_string(), "ec:p256");
    ASSERT_TRUE(op.request.completes_by);
    EXPECT_EQ(op.request.auth_secret_hash.find(digits), std::string::npos);  // only hashed
    auto page = get("/device", {{"name", "SEP0000000000D3"}});
    EXPECT_NE(page.body.find("state-pending"), std::string::npos);
    EXPECT_EQ(page.body.find(digits), std::string::npos);  // shown once: never again
    EXPECT_TRUE(has(audit_actions(), "web:alice operation.schedule"));

    auto cancel = post("/device/cancel", {{"name", "SEP0000000000D3"}, {"csrf", csrf()}});
    EXPECT_EQ(cancel.status, 200);
    EXPECT_NE(get("/device", {{"name", "SEP0000000000D3"}}).body.find("state-cancelled"), std::string::npos);
    auto again = post("/device/cancel", {{"name", "SEP0000000000D3"}, {"csrf", csrf()}});
    EXPECT_EQ(again.status, 409);  // nothing open any more: the registry's words
}

TEST_F(WebAppTest, TheCliRulesRefuseWhatTheCliRefuses) {
    account("alice", WebRole::Admin, "alice password 1");
    add_device("SEP0000000000D4");
    ASSERT_EQ(sign_in("alice", "alice password 1").status, 303);
    auto weak = post("/device/schedule", {{"name", "SEP0000000000D4"}, {"kind", "install"}, {"auth", "null"},
                                          {"key", "rsa:1024"}, {"csrf", csrf()}});
    EXPECT_EQ(weak.status, 400);
    auto past = post("/device/schedule", {{"name", "SEP0000000000D4"}, {"kind", "install"}, {"auth", "null"},
                                          {"key", "rsa:2048"}, {"by", "2001-01-01T00:00Z"}, {"csrf", csrf()}});
    EXPECT_EQ(past.status, 400);
    auto unknown = post("/device/schedule", {{"name", "SEP0000000000FF"}, {"kind", "install"}, {"auth", "null"},
                                             {"key", "rsa:2048"}, {"csrf", csrf()}});
    EXPECT_EQ(unknown.status, 400);
    auto reason = post("/device/revoke", {{"name", "SEP0000000000D4"}, {"reason", "because"}, {"csrf", csrf()}});
    EXPECT_EQ(reason.status, 400);
}

TEST_F(WebAppTest, RevokeShowsTheRevokedStatusAndRunsTheHook) {
    account("alice", WebRole::Admin, "alice password 1");
    add_device("SEP0000000000D5");
    give_lsc("SEP0000000000D5");
    ASSERT_EQ(sign_in("alice", "alice password 1").status, 303);
    auto page = get("/device", {{"name", "SEP0000000000D5"}});
    EXPECT_NE(page.body.find("revoke-form"), std::string::npos);
    auto done = post("/device/revoke", {{"name", "SEP0000000000D5"}, {"reason", "key-compromise"}, {"csrf", csrf()}});
    ASSERT_EQ(done.status, 200) << done.body;
    EXPECT_NE(done.body.find("CRL renewed by the test hook."), std::string::npos);
    EXPECT_EQ(revoked_hook, (std::vector<std::string>{"SEP0000000000D5 web:alice"}));
    page = get("/device", {{"name", "SEP0000000000D5"}});
    EXPECT_NE(page.body.find("cert-revoked"), std::string::npos);
    EXPECT_NE(page.body.find("(key-compromise)"), std::string::npos);
    EXPECT_EQ(page.body.find("revoke-form"), std::string::npos);  // nothing active left to revoke
    auto list = get("/devices", {{"lsc", "revoked"}});
    EXPECT_NE(list.body.find("SEP0000000000D5"), std::string::npos);
}

TEST_F(WebAppTest, EveryRegistryValueIsEscaped) {
    account("alice", WebRole::Admin, "alice password 1");
    add_device("SEP0000000000D6", "\"><img src=x onerror=alert(2)>", "<script>alert(1)</script> & 'quotes'");
    ASSERT_EQ(sign_in("alice", "alice password 1").status, 303);
    for (const auto& body : {get("/device", {{"name", "SEP0000000000D6"}}).body, get("/devices").body,
                             get("/devices", {{"q", "<script>x</script>"}}).body}) {
        EXPECT_EQ(body.find("<script>"), std::string::npos);
        EXPECT_EQ(body.find("<img src=x"), std::string::npos);
    }
    const std::string page = get("/device", {{"name", "SEP0000000000D6"}}).body;
    EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &apos;quotes&apos;"), std::string::npos);
    EXPECT_NE(page.find("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"), std::string::npos);
    // The search text comes back escaped in its input field.
    EXPECT_NE(get("/devices", {{"q", "\"><b>"}}).body.find("value=\"&quot;&gt;&lt;b&gt;\""), std::string::npos);
}

TEST_F(WebAppTest, TheDeviceListIsPagedByName) {
    account("alice", WebRole::Admin, "alice password 1");
    std::vector<Store::NewDevice> devices;
    for (int i = 0; i < 120; ++i) {
        char name[16];
        std::snprintf(name, sizeof name, "SEP%012X", 0x500 + i);
        devices.push_back({name, "CP-8841", ""});
    }
    ASSERT_FALSE(check.add_devices(devices, "test").error);
    ASSERT_EQ(sign_in("alice", "alice password 1").status, 303);
    auto first = get("/devices");
    EXPECT_NE(first.body.find("50 shown"), std::string::npos);
    EXPECT_NE(first.body.find("SEP000000000500"), std::string::npos);
    EXPECT_EQ(first.body.find("SEP000000000532"), std::string::npos);
    EXPECT_EQ(first.body.find("id=\"prev\""), std::string::npos);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(first.body, m, std::regex("href=\"/devices\\?q=&amp;model=&amp;lsc=&amp;after=(SEP[0-9A-F]+)\" id=\"next\"")));
    EXPECT_EQ(m[1], "SEP000000000531");
    auto third = get("/devices", {{"after", "SEP000000000563"}});
    EXPECT_NE(third.body.find("20 shown"), std::string::npos);
    EXPECT_EQ(third.body.find("id=\"next\""), std::string::npos);
    EXPECT_NE(third.body.find("id=\"prev\""), std::string::npos);
    auto back = get("/devices", {{"before", "SEP000000000564"}});
    EXPECT_NE(back.body.find("50 shown"), std::string::npos);
    EXPECT_NE(back.body.find("SEP000000000532"), std::string::npos);
    EXPECT_NE(back.body.find("SEP000000000563"), std::string::npos);
    EXPECT_EQ(back.body.find("SEP000000000531"), std::string::npos);
}

TEST_F(WebAppTest, APasswordChangeEndsTheSessions) {
    account("alice", WebRole::Admin, "alice password 1");
    ASSERT_EQ(sign_in("alice", "alice password 1").status, 303);
    ASSERT_EQ(get("/").status, 200);
    auto hash = hash_password("alice password 2", kFastArgon2);
    ASSERT_TRUE(hash);
    ASSERT_TRUE(check.set_web_account_password("alice", *hash, "cli:root"));
    EXPECT_EQ(get("/").status, 303);
}

TEST_F(WebAppTest, AnExceptionInAPageIsABare500AndExtensionsShowUp) {
    account("alice", WebRole::Admin, "alice password 1");
    add_device("SEP0000000000D7");
    app->add_page({"/boom", "Boom", [](WebApp&, const PageContext&) -> Result<PageBody> {
                       throw std::runtime_error("secret detail");
                   }});
    app->add_device_panel({"Sessions panel", [](WebApp&, const PageContext&, const Device& d) -> Result<std::string> {
                               TemplateData data;
                               data.set("message", "panel of " + d.name + " <b>");
                               return render_template("message", data);
                           }});
    ASSERT_EQ(sign_in("alice", "alice password 1").status, 303);
    auto boom = get("/boom");
    EXPECT_EQ(boom.status, 500);
    EXPECT_EQ(boom.body.find("secret detail"), std::string::npos);
    EXPECT_NE(get("/").body.find("href=\"/boom\""), std::string::npos);
    const std::string page = get("/device", {{"name", "SEP0000000000D7"}}).body;
    EXPECT_NE(page.find("Sessions panel"), std::string::npos);
    EXPECT_NE(page.find("panel of SEP0000000000D7 &lt;b&gt;"), std::string::npos);
}

TEST_F(WebAppTest, TheStyleSheetNeedsNoSessionAndUnknownPagesAre404) {
    auto css = get("/static/app.css");
    EXPECT_EQ(css.status, 200);
    EXPECT_EQ(css.content_type, "text/css; charset=utf-8");
    account("alice", WebRole::Admin, "alice password 1");
    ASSERT_EQ(sign_in("alice", "alice password 1").status, 303);
    EXPECT_EQ(get("/nowhere").status, 404);
    EXPECT_EQ(post("/nowhere", {{"csrf", csrf()}}).status, 404);
    EXPECT_EQ(get("/device", {{"name", "SEP0000000000EE"}}).status, 400);
    EXPECT_EQ(get("/devices", {{"lsc", "bogus"}}).status, 400);
}

}  // namespace
}  // namespace lscgate::web
