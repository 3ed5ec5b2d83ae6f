// CUCM device-name rules per class (device_name.h), the de-duplication of name
// lists, and the escaping of outside text in messages (printable.h).

#include "decide/decision_engine.h"
#include "registry/device_name.h"
#include "pki/printable.h"

#include <gtest/gtest.h>

using namespace lscgate;

namespace {

struct NameCase {
    const char* input;
    const char* normalized;  // nullptr: refused
    const char* message;     // refused: a fragment the error must contain
};

class DeviceNameRule : public ::testing::TestWithParam<NameCase> {};

TEST_P(DeviceNameRule, AcceptsNormalisesOrNamesTheRule) {
    const auto& c = GetParam();
    auto got = normalize_device_name(c.input);
    if (c.normalized != nullptr) {
        ASSERT_TRUE(got) << c.input << ": " << got.message();
        EXPECT_EQ(*got, c.normalized);
    } else {
        ASSERT_FALSE(got) << c.input << " was accepted as " << *got;
        EXPECT_NE(got.message().find(c.message), std::string::npos) << got.message();
        EXPECT_EQ(got.kind(), ErrorKind::Input);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Cucm, DeviceNameRule,
    ::testing::Values(
        // SEP / ATA: prefix + 12 hex digits, upper-cased
        NameCase{"SEP0011223344AA", "SEP0011223344AA", nullptr}, NameCase{"sep0011223344aa", "SEP0011223344AA", nullptr},
        NameCase{"Sep0011223344aA", "SEP0011223344AA", nullptr}, NameCase{"ATA0011223344AB", "ATA0011223344AB", nullptr},
        NameCase{"ata00aabbccdd01", "ATA00AABBCCDD01", nullptr},
        NameCase{"SEP00112233445", nullptr, "exactly 12 hex digits"},
        NameCase{"SEP0011223344AG", nullptr, "exactly 12 hex digits"},
        NameCase{"SEPARATE", nullptr, "exactly 12 hex digits"},
        NameCase{"ATA00AABBCCDDEE01", nullptr, "at most 15"},
        // CSF: letters and digits, case kept
        NameCase{"CSFjdoe", "CSFjdoe", nullptr}, NameCase{"CSFJDOE", "CSFJDOE", nullptr},
        NameCase{"CSFabcdefghijkl", "CSFabcdefghijkl", nullptr},
        NameCase{"CSFJ.DOE", nullptr, "CSF followed by letters and digits only"},
        NameCase{"CSFj_doe", nullptr, "CSF followed by letters and digits only"},
        NameCase{"csfjdoe", nullptr, "upper-case 'CSF'"}, NameCase{"CSF", nullptr, "1 to 12 more characters"},
        NameCase{"CSFabcdefghijklm", nullptr, "16 characters; CUCM device names have at most 15"},
        // TCT / BOT / TAB: upper case, may contain . _ -
        NameCase{"TCTJ.DOE-1", "TCTJ.DOE-1", nullptr}, NameCase{"BOTJ_DOE", "BOTJ_DOE", nullptr},
        NameCase{"TABJDOE", "TABJDOE", nullptr}, NameCase{"tctjdoe", nullptr, "did you mean 'TCTJDOE'?"},
        NameCase{"TCTjdoe", nullptr, "TCT (Jabber for iPhone) names are upper case"},
        NameCase{"BOTj", nullptr, "BOT (Jabber for Android) names are upper case"},
        NameCase{"TabJDOE", nullptr, "TAB (Jabber for tablets) names are upper case"},
        NameCase{"TCTJ DOE", nullptr, "only letters, digits"},
        // other names: CUCM's character class, case kept, 15 at most
        NameCase{"Lab-Phone_1.a", "Lab-Phone_1.a", nullptr}, NameCase{"", nullptr, "empty"},
        NameCase{"SEP,CN=evil", nullptr, "only letters, digits"}, NameCase{"a/b", nullptr, "only letters, digits"},
        NameCase{"x\"y", nullptr, "only letters, digits"}, NameCase{"line\nbreak", nullptr, "'line\\nbreak'"},
        NameCase{"SEP\x1b[2J", nullptr, "'SEP\\x1B[2J'"}, NameCase{"caf\xc3\xa9", nullptr, "'caf\\xC3\\xA9'"}));

TEST(DeviceName, LongNamesAreRefusedWithTheirLength) {
    auto got = normalize_device_name(std::string(65, 'A'));
    ASSERT_FALSE(got);
    EXPECT_NE(got.message().find("65 characters"), std::string::npos) << got.message();
}

TEST(DeviceName, ClassesAndSoftClients) {
    EXPECT_EQ(device_class("SEP0011223344AA"), DeviceClass::Sep);
    EXPECT_EQ(device_class("ATA0011223344AA"), DeviceClass::Ata);
    EXPECT_EQ(device_class("CSFjdoe"), DeviceClass::Csf);
    EXPECT_EQ(device_class("TCTJDOE"), DeviceClass::Tct);
    EXPECT_EQ(device_class("BOTJDOE"), DeviceClass::Bot);
    EXPECT_EQ(device_class("TABJDOE"), DeviceClass::Tab);
    EXPECT_EQ(device_class("Lab1"), DeviceClass::Other);
    for (auto c : {DeviceClass::Csf, DeviceClass::Tct, DeviceClass::Bot, DeviceClass::Tab}) EXPECT_TRUE(is_soft_client(c));
    for (auto c : {DeviceClass::Sep, DeviceClass::Ata, DeviceClass::Other}) EXPECT_FALSE(is_soft_client(c));
}

TEST(DeviceNameList, DuplicatesAfterNormalisationAreKeptOnceAndReportedOnce) {
    auto list = normalize_device_names({"SEP0011223344AA", "CSFjdoe", "sep0011223344aa", "SEP0011223344aa", "CSFJDOE",
                                        "CSFjdoe"});
    ASSERT_TRUE(list) << list.message();
    EXPECT_EQ(list->names, (std::vector<std::string>{"SEP0011223344AA", "CSFjdoe", "CSFJDOE"}));
    EXPECT_EQ(list->duplicates, (std::vector<std::string>{"SEP0011223344AA", "CSFjdoe"}));
    auto bad = normalize_device_names({"SEP0011223344AA", "tctjdoe"});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.message().find("tctjdoe"), std::string::npos);
}

TEST(DeviceName, IncrementsMacs) {
    EXPECT_EQ(*next_sep_name("SEP000000000009"), "SEP00000000000A");
    EXPECT_EQ(*next_sep_name("sep0000000000ff", 1), "SEP000000000100");
    EXPECT_EQ(*next_sep_name("SEP000000000001", 0), "SEP000000000001");
    EXPECT_FALSE(next_sep_name("SEPFFFFFFFFFFFF"));
    EXPECT_FALSE(next_sep_name("CSFjdoe"));
    EXPECT_FALSE(next_sep_name("ATA0011223344AA"));
}

TEST(Printable, EscapesEverythingOutsidePrintableAscii) {
    EXPECT_EQ(escape_nonprintable("SEP0011223344AA"), "SEP0011223344AA");
    EXPECT_EQ(escape_nonprintable("a\nb\rc\td"), "a\\nb\\rc\\td");
    EXPECT_EQ(escape_nonprintable(std::string("\x00\x1b\x7f\x9b\xff", 5)), "\\x00\\x1B\\x7F\\x9B\\xFF");
    EXPECT_EQ(escape_nonprintable("back\\slash \"quoted\""), "back\\\\slash \"quoted\"");
    EXPECT_EQ(quote_for_log("say \"hi\"\n"), "\"say \\\"hi\\\"\\n\"");
    for (int c = 0; c < 256; ++c) {
        const std::string out = escape_nonprintable(std::string(1, static_cast<char>(c)));
        for (char o : out) EXPECT_TRUE(o >= 0x20 && o <= 0x7e) << c;
    }
}

}  // namespace

namespace {

// The VPN path takes the device from a NAS-supplied User-Name; whatever it
// carries reaches the FreeRADIUS log only escaped.
TEST(DeviceName, VpnUserNamesAreJudgedAndEchoedEscaped) {
    EXPECT_EQ(*device_from_user_name("CSFjdoe", VpnNameForm::CommonName), "CSFjdoe");
    auto lower = device_from_user_name("tctjdoe", VpnNameForm::CommonName);
    ASSERT_FALSE(lower);
    EXPECT_NE(lower.message().find("upper case"), std::string::npos) << lower.message();
    for (const char* evil : {"SEP\x1b[2J\nforged", "O=x\r\nforged"}) {
        auto got = device_from_user_name(evil, VpnNameForm::DistinguishedName);
        ASSERT_FALSE(got) << evil;
        for (char c : got.message()) EXPECT_TRUE(c >= 0x20 && c <= 0x7e) << got.message();
    }
}

}  // namespace

// The name a certificate CN stands for, read by RADIUS (device_from_common_name)
// and by the CAPF server for a MIC (mic_common_name_names_device): one rule in
// device_name.h for both.
TEST(DeviceName, CommonNamesOfPhonesAndMics) {
    EXPECT_TRUE(looks_like_phone_name("SEP001122334455"));
    EXPECT_TRUE(looks_like_phone_name("sep00112233aabb"));
    EXPECT_FALSE(looks_like_phone_name("SEP00112233445"));     // 11 hex digits
    EXPECT_FALSE(looks_like_phone_name("SEP00112233445G"));    // not hex
    EXPECT_FALSE(looks_like_phone_name("ATA001122334455"));    // an ATA, not a phone
    EXPECT_FALSE(looks_like_phone_name("CSFjdoe"));

    EXPECT_EQ(device_from_common_name("sep00112233aabb"), "SEP00112233AABB");
    EXPECT_EQ(device_from_common_name("CP-8841-SEP001122334455"), "SEP001122334455");
    EXPECT_EQ(device_from_common_name("CP-8841-SEP0011"), "CP-8841-SEP0011");  // as it is
    EXPECT_EQ(device_from_common_name("CSFjdoe"), "CSFjdoe");

    EXPECT_TRUE(mic_common_name_names_device("SEP001122334455", "SEP001122334455"));
    EXPECT_TRUE(mic_common_name_names_device("CP-8841-SEP001122334455", "SEP001122334455"));
    EXPECT_FALSE(mic_common_name_names_device("CP-8841XSEP001122334455", "SEP001122334455"));  // a substring only
    EXPECT_FALSE(mic_common_name_names_device("-SEP00112233445", "SEP001122334455"));
    EXPECT_FALSE(mic_common_name_names_device("SEP001122334466", "SEP001122334455"));
}
