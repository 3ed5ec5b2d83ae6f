// What last-seen takes from a RADIUS request: the Cisco audit-session-id out of
// Cisco-AVPair values, and every outside text bounded and printable.

#include "decide/seen_facts.h"

#include <gtest/gtest.h>

namespace lscgate {
namespace {

TEST(CiscoAuditSessionId, TakesTheFirstAuditSessionIdPair) {
    EXPECT_EQ(cisco_audit_session_id({"service-type=Framed", "audit-session-id=0A0B0C0D000000010203",
                                      "audit-session-id=FFFF"}),
              "0A0B0C0D000000010203");
    EXPECT_EQ(cisco_audit_session_id({" Audit-Session-ID = 0A0B0C0D0000000102AB "}), "0A0B0C0D0000000102AB");
    EXPECT_EQ(cisco_audit_session_id({"audit-session-id*0A0B"}), "0A0B");  // Cisco's optional-attribute separator
}

TEST(CiscoAuditSessionId, IgnoresOtherAndMalformedPairs) {
    EXPECT_EQ(cisco_audit_session_id({}), "");
    EXPECT_EQ(cisco_audit_session_id({"audit-session-id"}), "");            // no separator
    EXPECT_EQ(cisco_audit_session_id({"audit-session-id="}), "");           // no value
    EXPECT_EQ(cisco_audit_session_id({"xaudit-session-id=1"}), "");         // another name
    EXPECT_EQ(cisco_audit_session_id({"audit-session-idx=1"}), "");
    EXPECT_EQ(cisco_audit_session_id({"cisco-nas-port=Gi1/0/7"}), "");
    EXPECT_EQ(cisco_audit_session_id({"", "=", "audit-session-id=", "audit-session-id=AB"}), "AB");
}

TEST(CiscoAuditSessionId, IsBoundedAndPrintable) {
    const std::string long_id(300, 'A');
    EXPECT_EQ(cisco_audit_session_id({"audit-session-id=" + long_id}), std::string(kSeenIdMax, 'A'));
    EXPECT_EQ(cisco_audit_session_id({std::string_view("audit-session-id=AB\nCD\x1b", 23)}), "AB\\nCD\\x1B");
}

TEST(BoundedPrintable, NeverCutsAnEscapeInHalf) {
    EXPECT_EQ(bounded_printable("abc", 10), "abc");
    EXPECT_EQ(bounded_printable("abcdef", 3), "abc");
    EXPECT_EQ(bounded_printable("ab\x01", 5), "ab");       // "\x01" needs 4 bytes, 3 left
    EXPECT_EQ(bounded_printable("ab\x01", 6), "ab\\x01");
    EXPECT_EQ(bounded_printable("a\\b", 2), "a");          // a backslash is written doubled
}

TEST(SeenEvent, CarriesTheRequestsContext) {
    RadiusRequest req;
    req.nas = "192.0.2.1";
    req.calling_station_id = "00-11-22-33-44-55";
    req.nas_port_id = std::string_view("Gi1/0/7\r\nforged", 15);
    req.acct_session_id = "00000042";
    req.cisco_avpairs = {"audit-session-id=C0A80001000000123456789A"};
    Decision d;
    d.cls = CertClass::Mic;
    d.device = "SEP001122334455";
    d.reason = "MIC";
    const SeenEvent e = seen_event(req, d, 1700000000);
    EXPECT_EQ(e.device, "SEP001122334455");
    EXPECT_EQ(e.cls, "mic");
    EXPECT_EQ(e.nas, "192.0.2.1");
    EXPECT_EQ(e.calling_station_id, "00-11-22-33-44-55");
    EXPECT_EQ(e.nas_port_id, "Gi1/0/7\\r\\nforged");
    EXPECT_EQ(e.acct_session_id, "00000042");
    EXPECT_EQ(e.audit_session_id, "C0A80001000000123456789A");
    EXPECT_EQ(e.at, 1700000000);
    EXPECT_EQ(e.node, "");
    d.error = true;
    EXPECT_EQ(seen_event(req, d, 1).cls, "error");
}

TEST(SeenNodeName, ConfiguredOrTheHostName) {
    EXPECT_EQ(seen_node_name("radius-a"), "radius-a");
    EXPECT_EQ(seen_node_name(std::string(100, 'n')).size(), kSeenIdMax);
    EXPECT_FALSE(seen_node_name("").empty());
}

}  // namespace
}  // namespace lscgate
