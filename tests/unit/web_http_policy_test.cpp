// What every response of the web pages carries and where they may listen
// (issue 14; web/http_policy.h): security headers, cookie attributes, our
// cookies found in a Cookie header, the listen address and its loopback rule.

#include "web/http_policy.h"

#include <gtest/gtest.h>

#include <map>

namespace lscgate::web {
namespace {

TEST(WebHttpPolicy, EveryResponseCarriesTheSecurityHeaders) {
    std::map<std::string, std::string> h;
    for (const auto& [name, value] : security_headers()) h[name] = value;
    const std::string csp = h["Content-Security-Policy"];
    EXPECT_NE(csp.find("default-src 'self'"), std::string::npos);
    EXPECT_NE(csp.find("script-src 'none'"), std::string::npos);
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
    EXPECT_EQ(h["Strict-Transport-Security"], "max-age=31536000");
    EXPECT_EQ(h["X-Content-Type-Options"], "nosniff");
    EXPECT_EQ(h["Referrer-Policy"], "no-referrer");
    EXPECT_EQ(h["X-Frame-Options"], "DENY");
    EXPECT_EQ(h["Cache-Control"], "no-store");
}

TEST(WebHttpPolicy, CookiesAreHttpOnlySecureSameSiteStrict) {
    const std::string c = cookie_header(kSessionCookie, "abc123");
    EXPECT_EQ(c, "__Host-lscgate=abc123; Path=/; Secure; HttpOnly; SameSite=Strict");
    EXPECT_EQ(c.find("Domain"), std::string::npos);  // __Host-: no Domain, Path=/
    const std::string gone = cookie_removal(kSessionCookie);
    EXPECT_NE(gone.find("Max-Age=0"), std::string::npos);
    EXPECT_NE(gone.find("Secure; HttpOnly; SameSite=Strict"), std::string::npos);
}

TEST(WebHttpPolicy, OurCookieIsFoundInTheCookieHeader) {
    EXPECT_EQ(cookie_value("__Host-lscgate=aa; other=1", kSessionCookie), "aa");
    EXPECT_EQ(cookie_value("other=1;__Host-lscgate=bb", kSessionCookie), "bb");
    EXPECT_EQ(cookie_value("__Host-lscgate-login=cc; __Host-lscgate=dd", kSessionCookie), "dd");
    EXPECT_EQ(cookie_value("__Host-lscgate-login=cc", kLoginCookie), "cc");
    EXPECT_FALSE(cookie_value("__Host-lscgate-login=cc", kSessionCookie));
    EXPECT_FALSE(cookie_value("", kSessionCookie));
    EXPECT_FALSE(cookie_value("lscgate=ee", kSessionCookie));
}

TEST(WebHttpPolicy, ListenAddressesAreParsedWithTheirLoopbackness) {
    auto v4 = parse_listen_address("127.0.0.1:8443");
    ASSERT_TRUE(v4) << v4.message();
    EXPECT_EQ(v4->host, "127.0.0.1");
    EXPECT_EQ(v4->port, 8443);
    EXPECT_TRUE(v4->loopback);
    EXPECT_TRUE(parse_listen_address("127.8.9.10:1")->loopback);
    auto v6 = parse_listen_address("[::1]:8443");
    ASSERT_TRUE(v6);
    EXPECT_TRUE(v6->loopback);
    EXPECT_EQ(v6->text(), "[::1]:8443");
    EXPECT_TRUE(parse_listen_address("localhost:9000")->loopback);
    EXPECT_FALSE(parse_listen_address("0.0.0.0:8443")->loopback);
    EXPECT_FALSE(parse_listen_address("192.0.2.10:8443")->loopback);
    EXPECT_FALSE(parse_listen_address("[::]:8443")->loopback);
    for (const char* bad : {"8443", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "web.example.net:8443",
                            "[::1:8443", "127.0.0.1:84x3"})
        EXPECT_EQ(parse_listen_address(bad).kind(), ErrorKind::Config) << bad;
}

TEST(WebHttpPolicy, ANonLoopbackAddressNeedsAllowRemote) {
    auto remote = parse_listen_address("0.0.0.0:8443");
    ASSERT_TRUE(remote);
    auto refused = check_listen_allowed(*remote, false);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.kind(), ErrorKind::Config);
    EXPECT_NE(refused.message().find("allow_remote"), std::string::npos);
    EXPECT_TRUE(check_listen_allowed(*remote, true));
    EXPECT_TRUE(check_listen_allowed(*parse_listen_address("[::1]:8443"), false));
}

}  // namespace
}  // namespace lscgate::web
