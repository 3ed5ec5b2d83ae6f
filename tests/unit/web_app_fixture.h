#pragma once

// The web pages without the network (web/web_app.h): WebApp::handle over a
// real SQLite registry, with a small cookie jar standing in for the browser.
// Shared by web_app_test.cpp and web_fleet_pages_test.cpp.

#include "registry/store.h"
#include "test_support.h"
#include "web/http_policy.h"
#include "web/password_hash.h"
#include "web/web_app.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace lscgate::web {

using test::TempDir;

inline const Argon2Params kFastArgon2{8 * 1024, 1, 1};

class WebAppFixture : public ::testing::Test {
protected:
    TempDir dir;
    std::string db = (dir / "lscgate.db").string();
    Store check = test::make_store(db);  // the test's own connection
    std::vector<std::string> revoked_hook;
    std::vector<std::string> last_seen_files;  // WebOptions::last_seen (reopen() after setting)
    std::unique_ptr<WebApp> app = make_app();
    std::map<std::string, std::string> jar;  // the browser's cookies
    UnixTime now = now_utc();
    test::TestCa capf = test::make_root_ca("CN=CAPF-webapp,O=Example");
    CapfAuthority authority = test::authority_from(capf);

    std::unique_ptr<WebApp> make_app() {
        auto store = Store::open(db);
        if (!store) throw std::runtime_error(store.message());
        WebHooks hooks;
        hooks.after_revoke = [this](const CertificateRecord& c, const std::string& actor) {
            revoked_hook.push_back(c.device_name + " " + actor);
            return std::vector<std::string>{"CRL renewed by the test hook."};
        };
        WebOptions options;
        options.lockout = {5, 900};
        options.last_seen = {db, last_seen_files};
        return std::make_unique<WebApp>(std::move(*store), options, hooks);
    }
    /// A new app with the options as they are now (sessions live in the app: sign in again).
    void reopen() {
        app = make_app();
        jar.clear();
    }
    void account(const std::string& name, WebRole role, const std::string& password) {
        auto hash = hash_password(password, kFastArgon2);
        ASSERT_TRUE(hash);
        ASSERT_TRUE(check.add_web_account(name, role, *hash, "test"));
    }
    WebResponse request(const std::string& method, const std::string& path, std::map<std::string, std::string> params,
                        std::map<std::string, WebUpload> uploads = {}) {
        WebRequest r{method, path, std::move(params), "", "127.0.0.1", std::move(uploads)};
        for (const auto& [k, v] : jar) r.cookie += (r.cookie.empty() ? "" : "; ") + k + "=" + v;
        WebResponse out = app->handle(r, now);
        for (const auto& c : out.set_cookies) {  // name=value; attributes
            const std::string pair = c.substr(0, c.find(';'));
            const auto eq = pair.find('=');
            if (c.find("Max-Age=0") != std::string::npos) jar.erase(pair.substr(0, eq));
            else jar[pair.substr(0, eq)] = pair.substr(eq + 1);
        }
        return out;
    }
    WebResponse get(const std::string& path, std::map<std::string, std::string> params = {}) {
        return request("GET", path, std::move(params));
    }
    WebResponse post(const std::string& path, std::map<std::string, std::string> params = {}) {
        return request("POST", path, std::move(params));
    }
    static std::string csrf_of(const std::string& html) {
        std::smatch m;
        if (!std::regex_search(html, m, std::regex("name=\"csrf\" value=\"([0-9a-f]{64})\""))) return "";
        return m[1];
    }
    WebResponse sign_in(const std::string& name, const std::string& password) {
        const std::string token = csrf_of(get("/login").body);
        return post("/login", {{"name", name}, {"password", password}, {"csrf", token}});
    }
    std::string csrf() { return csrf_of(get("/").body); }
    void add_device(const std::string& name, const std::string& model = "CP-8841", const std::string& description = "") {
        ASSERT_TRUE(check.add_device(name, model, description, "test"));
    }
    void give_lsc(const std::string& device) {
        OperationRequest r;
        auto op = check.schedule_operation(device, r, "test");
        ASSERT_TRUE(op);
        auto key = test::make_key("ec:p256");
        auto cert = authority.issue_lsc(device, key.get(), 365);
        ASSERT_TRUE(cert);
        ASSERT_TRUE(check.commit_issued_lsc(*op, cert->get()));
    }
    std::vector<std::string> audit_actions() {
        std::vector<std::string> out;
        auto rows = check.list_audit(200);
        if (rows)
            for (const auto& e : *rows) out.push_back(e.actor + " " + e.action);
        return out;
    }
    static bool has(const std::vector<std::string>& v, const std::string& x) {
        return std::find(v.begin(), v.end(), x) != v.end();
    }
};

}  // namespace lscgate::web
