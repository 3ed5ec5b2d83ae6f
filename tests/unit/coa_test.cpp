// The CoA client's pure parts and its failure paths (module/coa): what a request
// carries for a last-seen row, the NAS secrets file, one NAS per device, how an
// answer reads, and that a NAS that never answers (or answers garbage) is a
// timeout after exactly the configured tries. The ACK and NAK paths are proven
// against a real FreeRADIUS acting as the switch (tests/e2e/test_coa.sh).

#include "coa/coa_client.h"
#include "coa/coa_request.h"
#include "coa/coa_sessions.h"
#include "coa/nas_secrets.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

using namespace lscgate;

namespace {

SeenEvent session() {
    SeenEvent e;
    e.device = "SEP001122334455";
    e.cls = "lsc-valid";
    e.nas = "192.0.2.10";
    e.at = 1700000000;
    e.calling_station_id = "00-11-22-33-44-55";
    e.acct_session_id = "0000002A";
    e.audit_session_id = "C0A8000100000017ABCDEF01";
    e.node = "radius1";
    return e;
}

std::vector<std::string> names(const std::vector<CoaAttribute>& attributes) {
    std::vector<std::string> out;
    for (const auto& a : attributes) out.push_back(a.name + "=" + a.value);
    return out;
}

}  // namespace

TEST(CoaAttributes, ReauthenticateCarriesTheNasTheMacTheAuditSessionAndTheCiscoCommand) {
    auto a = coa_attributes(session(), CoaMode::Reauthenticate, 1700000100);
    ASSERT_TRUE(a) << a.message();
    EXPECT_EQ(names(*a), (std::vector<std::string>{
                             "Message-Authenticator=0x00000000000000000000000000000000",
                             "NAS-IP-Address=192.0.2.10",
                             "Calling-Station-Id=00-11-22-33-44-55",
                             "Cisco-AVPair=audit-session-id=C0A8000100000017ABCDEF01",
                             "Cisco-AVPair=subscriber:command=reauthenticate",
                             "Event-Timestamp=1700000100",
                         }));
    EXPECT_EQ(request_code(CoaMode::Reauthenticate), 43);
}

TEST(CoaAttributes, DisconnectHasNoCiscoCommandAndFallsBackToAcctSessionIdWithoutAnAuditId) {
    auto e = session();
    e.audit_session_id.clear();
    e.nas = "2001:db8::20";
    auto a = coa_attributes(e, CoaMode::Disconnect, 5);
    ASSERT_TRUE(a) << a.message();
    EXPECT_EQ(names(*a), (std::vector<std::string>{
                             "Message-Authenticator=0x00000000000000000000000000000000",
                             "NAS-IPv6-Address=2001:db8::20",
                             "Calling-Station-Id=00-11-22-33-44-55",
                             "Acct-Session-Id=0000002A",
                             "Event-Timestamp=5",
                         }));
    EXPECT_EQ(request_code(CoaMode::Disconnect), 40);
}

TEST(CoaAttributes, NoNasOrNoSessionIdOrAnOversizedValueIsRefused) {
    auto e = session();
    e.nas = "switch1.example.net";
    auto no_nas = coa_attributes(e, CoaMode::Reauthenticate, 0);
    ASSERT_FALSE(no_nas);
    EXPECT_EQ(no_nas.kind(), ErrorKind::Input);
    EXPECT_NE(no_nas.message().find("no NAS address"), std::string::npos) << no_nas.message();

    e = session();
    e.calling_station_id.clear();
    e.acct_session_id.clear();
    e.audit_session_id.clear();
    auto no_id = coa_attributes(e, CoaMode::Reauthenticate, 0);
    ASSERT_FALSE(no_id);
    EXPECT_NE(no_id.message().find("no session identification"), std::string::npos) << no_id.message();

    e = session();
    e.audit_session_id = std::string(237, 'A');  // "audit-session-id=" + 237 = 254 octets
    auto big = coa_attributes(e, CoaMode::Reauthenticate, 0);
    ASSERT_FALSE(big);
    EXPECT_NE(big.message().find("253"), std::string::npos) << big.message();
    e.audit_session_id = std::string(236, 'A');
    EXPECT_TRUE(coa_attributes(e, CoaMode::Reauthenticate, 0));
}

TEST(CoaReplyText, NakNamesTheErrorCauseTimeoutCountsTheTries) {
    CoaReply r;
    r.outcome = CoaOutcome::Ack;
    EXPECT_EQ(describe(r), "ACK");
    r.outcome = CoaOutcome::Nak;
    EXPECT_EQ(describe(r), "NAK");
    r.error_cause = 503;
    EXPECT_EQ(describe(r), "NAK (Error-Cause 503 Session-Context-Not-Found)");
    r.error_cause = 599;
    EXPECT_EQ(describe(r), "NAK (Error-Cause 599)");
    r.outcome = CoaOutcome::Timeout;
    r.tries = 3;
    EXPECT_EQ(describe(r), "timeout after 3 tries");
    r.tries = 1;
    EXPECT_EQ(describe(r), "timeout after 1 try");
    EXPECT_EQ(error_cause_name(407), "Invalid-Attribute-Value");
    EXPECT_EQ(error_cause_name(403), "NAS-Identification-Mismatch");
    EXPECT_EQ(error_cause_name(0), "");
    EXPECT_EQ(parse_coa_mode("disconnect"), CoaMode::Disconnect);
    EXPECT_FALSE(parse_coa_mode("bounce"));
}

TEST(NasSecretsFile, LinesByCanonicalAddressWithPortAndFallback) {
    auto s = NasSecrets::parse("# switches\n\n192.0.2.10 sw1-secret\n2001:DB8:0::20\tsw2-secret 3799\r\n* any-other\n",
                               "secrets");
    ASSERT_TRUE(s) << s.message();
    EXPECT_EQ(s->size(), 2U);
    ASSERT_NE(s->find("192.0.2.10"), nullptr);
    EXPECT_EQ(s->find("192.0.2.10")->secret, "sw1-secret");
    EXPECT_FALSE(s->find("192.0.2.10")->port);
    const NasSecret* v6 = s->find("2001:db8::20");
    ASSERT_NE(v6, nullptr);
    EXPECT_EQ(v6->secret, "sw2-secret");
    EXPECT_EQ(v6->port, 3799);
    ASSERT_NE(s->find("198.51.100.1"), nullptr);
    EXPECT_EQ(s->find("198.51.100.1")->secret, "any-other");

    auto without_fallback = NasSecrets::parse("192.0.2.10 x\n", "f");
    ASSERT_TRUE(without_fallback);
    EXPECT_EQ(without_fallback->find("192.0.2.11"), nullptr);
}

TEST(NasSecretsFile, MalformedLinesNameTheLineNeverTheSecret) {
    for (auto [text, want] : {std::pair{"192.0.2.10\n", "f:1: expected 'ADDRESS SECRET [PORT]'"},
                              std::pair{"# x\nsw1.example.net topsecret\n", "f:2: 'sw1.example.net' is not an IPv4"},
                              std::pair{"192.0.2.10 topsecret 70000\n", "f:1: the port must be 1 to 65535"},
                              std::pair{"192.0.2.10 topsecret\n192.0.2.010 topsecret\n", ""},
                              std::pair{"192.0.2.10 topsecret\n::ffff:c000:20a topsecret\n", ""},
                              std::pair{"10.0.0.1 topsecret\n10.0.0.1 other\n", "f:2: 10.0.0.1 is listed twice"},
                              std::pair{"* topsecret\n* other\n", "f:2: a second '*' line"},
                              std::pair{"192.0.2.10 top secret with spaces\n", "f:1: expected"}}) {
        auto s = NasSecrets::parse(text, "f");
        if (std::string(want).empty()) continue;  // spellings inet_pton reads differently: not asserted
        ASSERT_FALSE(s) << text;
        EXPECT_EQ(s.kind(), ErrorKind::Config);
        EXPECT_NE(s.message().find(want), std::string::npos) << s.message();
        EXPECT_EQ(s.message().find("topsecret"), std::string::npos) << "the secret leaked: " << s.message();
    }
}

TEST(NasSecretsFile, AFileGroupOrOthersMayReadIsRefusedWithTheFix) {
    test::TempDir dir;
    const auto file = dir / "coa-secrets";
    std::ofstream(file) << "127.0.0.1 s3cret\n";
    ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
    auto refused = NasSecrets::load(file);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.kind(), ErrorKind::Config);
    EXPECT_NE(refused.message().find("mode 0640"), std::string::npos) << refused.message();
    EXPECT_NE(refused.message().find("chmod 600 " + file.string()), std::string::npos) << refused.message();
    ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
    auto ok = NasSecrets::load(file);
    ASSERT_TRUE(ok) << ok.message();
    EXPECT_EQ(ok->find("127.0.0.1")->secret, "s3cret");
    auto missing = NasSecrets::load(dir / "nope");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.message().find("[coa] secrets_file"), std::string::npos) << missing.message();
}

TEST(CoaTargets, OneRequestPerNasWithTheNewestSessionOfThatNas) {
    SeenRecord a{session(), 1};
    SeenRecord b{session(), 1};  // the same switch, seen by a second RADIUS node, later
    b.last.node = "radius2";
    b.last.at = a.last.at + 60;
    b.last.audit_session_id = "NEWER";
    SeenRecord c{session(), 1};  // another switch
    c.last.nas = "2001:DB8::1";
    c.last.node = "radius3";
    const auto targets = coa_targets({a, b, c});
    ASSERT_EQ(targets.size(), 2U);
    EXPECT_EQ(targets[0].nas, "192.0.2.10");
    EXPECT_EQ(targets[0].session.audit_session_id, "NEWER");
    EXPECT_EQ(targets[0].session.node, "radius2");
    EXPECT_EQ(targets[1].nas, "2001:db8::1");
    EXPECT_EQ(targets[1].session.nas, "2001:db8::1");
    EXPECT_TRUE(coa_targets({}).empty());
}

TEST(CoaTargets, ASqliteRegistryNeedsALastSeenFile) {
    auto rows = device_last_seen("lscgate.db", {}, "SEP001122334455");
    ASSERT_FALSE(rows);
    EXPECT_EQ(rows.kind(), ErrorKind::Config);
    EXPECT_NE(rows.message().find("last_seen_database"), std::string::npos) << rows.message();
}

namespace {

// A UDP socket on 127.0.0.1 that counts what arrives and, if asked, answers each
// datagram with `answer` (garbage, never a valid RADIUS reply).
class LoopbackNas {
public:
    explicit LoopbackNas(std::string answer) : answer_(std::move(answer)) {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
        socklen_t len = sizeof sa;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
        port_ = ntohs(sa.sin_port);
        timeval tv{0, 50000};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        thread_ = std::thread([this] { serve(); });
    }
    ~LoopbackNas() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    std::uint16_t port() const { return port_; }
    int received() const { return received_; }

private:
    void serve() {
        char buf[4096];
        while (!stop_) {
            sockaddr_in from{};
            socklen_t len = sizeof from;
            const auto n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
            if (n <= 0) continue;
            ++received_;
            if (!answer_.empty())
                ::sendto(fd_, answer_.data(), answer_.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
        }
    }
    std::string answer_;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<int> received_{0};
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

CoaRequest request_to(std::uint16_t port) {
    auto attributes = coa_attributes(session(), CoaMode::Reauthenticate, 1700000100);
    EXPECT_TRUE(attributes);
    CoaRequest r{CoaMode::Reauthenticate, "127.0.0.1", port, *attributes};
    r.attributes[1].value = "127.0.0.1";
    return r;
}

}  // namespace

TEST(CoaClient, ANasThatNeverAnswersIsATimeoutAfterExactlyTheConfiguredTries) {
    LoopbackNas silent("");
    const auto start = std::chrono::steady_clock::now();
    const CoaReply r = send_coa(request_to(silent.port()), "s3cret", CoaRetry{3, std::chrono::milliseconds(150)});
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(r.outcome, CoaOutcome::Timeout) << describe(r);
    EXPECT_EQ(r.tries, 3);
    EXPECT_EQ(describe(r), "timeout after 3 tries");
    EXPECT_GE(took, std::chrono::milliseconds(450));
    for (int i = 0; i < 100 && silent.received() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(silent.received(), 3) << "the request and two retransmissions";
}

TEST(CoaClient, GarbageAnswersAreDiscardedAndCountedNeverTakenForAnAnswer) {
    LoopbackNas noisy(std::string("\x2c\x00\x00\x05garbage", 11));
    const CoaReply r = send_coa(request_to(noisy.port()), "s3cret", CoaRetry{2, std::chrono::milliseconds(150)});
    EXPECT_EQ(r.outcome, CoaOutcome::Timeout) << describe(r);
    EXPECT_EQ(r.tries, 2);
    EXPECT_GE(r.discarded, 2);
}

TEST(CoaClient, ABadAddressOrAnEmptySecretIsAnErrorAndNothingIsSent) {
    auto r = request_to(1700);
    r.nas = "switch1";
    const CoaReply bad = send_coa(r, "s3cret", CoaRetry{});
    EXPECT_EQ(bad.outcome, CoaOutcome::Error);
    EXPECT_EQ(bad.error.kind, ErrorKind::Input);
    EXPECT_EQ(bad.tries, 0);
    const CoaReply empty = send_coa(request_to(1700), "", CoaRetry{});
    EXPECT_EQ(empty.outcome, CoaOutcome::Error);
    EXPECT_EQ(empty.error.kind, ErrorKind::Config);
    EXPECT_EQ(empty.tries, 0);
}
