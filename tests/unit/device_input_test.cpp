// Device lists from files (issue 10 item 1): BAT custom files and phone-export
// CSVs through libcsv, then the batch rules — each rule of the issue pinned here:
// empty / header-only / blank-only input is an error, never "every device";
// duplicates reported with their lines and kept once; an invalid name refuses
// the whole batch naming its line (537); "sep…" normalised; BOM and CRLF.

#include "fleet/device_batch.h"
#include "fleet/device_input.h"

#include <gtest/gtest.h>

#include <string>

using namespace lscgate;

namespace {

Result<DeviceBatch> batch_of(const std::string& text, const std::string& source = "devices.txt") {
    auto input = parse_device_input(text);
    if (!input) return input.error();
    return batch_from_input(*input, source);
}

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

TEST(DeviceInput, EmptyHeaderOnlyAndBlankInputsAreErrorsNeverEveryDevice) {
    for (const std::string& text : {std::string(""), std::string("\xEF\xBB\xBF"), std::string("\n\n\r\n  \n\t\n"),
                                   std::string("Device Name,Description\r\n"),
                                   std::string("\xEF\xBB\xBF\"Device Name\",\"Device Type\"\r\n\r\n,\r\n")}) {
        auto b = batch_of(text);
        ASSERT_FALSE(b) << "input: " << text;
        EXPECT_EQ(b.kind(), ErrorKind::Input);
        EXPECT_EQ(b.message(), "devices.txt: no devices in input");
    }
}

TEST(DeviceInput, ACustomFileWithBomAndCrlfNormalisesLowerCaseSep) {
    auto input = parse_device_input("\xEF\xBB\xBFsep0011223344aa\r\n\r\n  SEP001122334455  \r\nCSFjdoe");
    ASSERT_TRUE(input) << input.message();
    EXPECT_EQ(input->format, InputFormat::NameList);
    ASSERT_EQ(input->rows.size(), 3u);
    EXPECT_EQ(input->rows[0].name, "sep0011223344aa");
    EXPECT_EQ(input->rows[1].line, 3u);
    EXPECT_EQ(input->rows[2].line, 4u);
    auto b = batch_from_input(*input, "f");
    ASSERT_TRUE(b) << b.message();
    ASSERT_EQ(b->devices.size(), 3u);
    EXPECT_EQ(b->devices[0].name, "SEP0011223344AA");
    EXPECT_EQ(b->devices[1].name, "SEP001122334455");
    EXPECT_EQ(b->devices[2].name, "CSFjdoe");  // CSF keeps its case
}

TEST(DeviceInput, ABatExportUsesNameTypeAndDescriptionWithRfc4180Quoting) {
    // A BAT "Export Phones" file as Excel saves it: BOM, CRLF, quoted fields with a
    // comma, a doubled quote and a line break; columns in any order and case.
    const std::string text =
        "\xEF\xBB\xBF" "Description,DEVICE NAME,Device Pool,Device Type\r\n"
        "\"Lobby, ground floor \"\"A\"\"\",sep0011223344aa,Default,Cisco 8841\r\n"
        "\"Two\r\nlines\",SEP0011223344AB,Default,Cisco 8845\r\n"
        "plain,\"SEP0011223344AC\",,\r\n";
    auto input = parse_device_input(text);
    ASSERT_TRUE(input) << input.message();
    EXPECT_EQ(input->format, InputFormat::BatCsv);
    ASSERT_EQ(input->rows.size(), 3u);
    EXPECT_EQ(input->rows[0].description, "Lobby, ground floor \"A\"");
    EXPECT_EQ(input->rows[0].model, "Cisco 8841");
    EXPECT_EQ(input->rows[0].line, 2u);
    EXPECT_EQ(input->rows[1].description, "Two\r\nlines");
    EXPECT_EQ(input->rows[1].line, 4u);  // its Device Name is on the second line of the row
    EXPECT_EQ(input->rows[2].line, 5u);
    EXPECT_EQ(input->rows[2].model, "");
    auto b = batch_from_input(*input, "export.csv");
    ASSERT_TRUE(b) << b.message();
    EXPECT_EQ(b->devices[0].name, "SEP0011223344AA");
}

TEST(DeviceInput, DuplicatesAreReportedWithTheirLinesAndKeptOnce) {
    auto b = batch_of("SEP001122334455\nSEP0011223344AA\nsep001122334455\n\nSEP001122334455\n");
    ASSERT_TRUE(b) << b.message();
    ASSERT_EQ(b->devices.size(), 2u);
    EXPECT_EQ(b->devices[0].line, 1u);  // the first occurrence is the one acted on
    ASSERT_EQ(b->duplicates.size(), 1u);
    EXPECT_EQ(b->duplicates[0].lines, (std::vector<std::size_t>{1, 3, 5}));
    ASSERT_EQ(b->duplicate_notes().size(), 1u);
    EXPECT_EQ(b->duplicate_notes()[0], "SEP001122334455 is listed on lines 1, 3 and 5 of devices.txt; acting on it once");
}

TEST(DeviceInput, AnInvalidNameOnLine537RefusesTheWholeBatchNamingTheLine) {
    std::string list;
    for (int i = 1; i <= 600; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "SEP%012X\r\n", i);
        list += i == 537 ? std::string("SEP00112233445G\r\n") : std::string(name);
    }
    auto b = batch_of(list);
    ASSERT_FALSE(b);
    EXPECT_EQ(b.kind(), ErrorKind::Input);
    EXPECT_TRUE(contains(b.message(), "devices.txt:537: ")) << b.message();
    EXPECT_TRUE(contains(b.message(), "SEP00112233445G")) << b.message();
    // The same in a CSV export, after a multi-line quoted field shifted the lines.
    std::string csv = "Device Name,Description\n";
    csv += "SEP000000000001,\"a\nb\"\n";  // lines 2-3
    for (int line = 4; line < 537; ++line) {
        char row[48];
        std::snprintf(row, sizeof row, "SEP%012X,x\n", line);
        csv += row;
    }
    csv += "SEP 0011,bad\n";
    auto c = batch_of(csv, "export.csv");
    ASSERT_FALSE(c);
    EXPECT_TRUE(contains(c.message(), "export.csv:537: ")) << c.message();
}

TEST(DeviceInput, MalformedFilesAreRefusedNamingTheLine) {
    struct Case {
        std::string text;
        std::string want;
    };
    for (const auto& c : std::vector<Case>{
             {"SEP001122334455\nSEP0011223344AA,SEP0011223344AB\n", "line 2: more than one value"},
             {"Device Name\nSEP0011\"22\n", "line 2: malformed CSV quoting"},
             {"Device Name\n\"SEP001122334455\n", "line 2: the input ends inside a quoted field"},
             {"Device Name,Description\nSEP001122334455,ok\n,orphan description\n", "line 3: no Device Name"},
             {"Device Name,device name\nSEP001122334455,x\n", "line 1: the header names the column 'device name' twice"},
             {std::string("\xFF\xFE" "S\0E\0P\0", 8), "line 1: a UTF-16 file"},
             {std::string("SEP001122334455\nSEP\0", 20), "line 2: a NUL byte"},
             {"SEP001122334455\nDevice Name\n\"Caf\xE9\"\n", "line 3: not UTF-8"},
             {"Device Name,Description\nSEP001122334455,\"" + std::string(kMaxDeviceInputField + 10, 'x') + "\"\n",
              "line 2: a field longer than"},
             // n commas are n + 1 fields: 4097 is one too many.
             {"Device Name\n" + std::string(kMaxDeviceInputFieldsPerRow, ',') + "\n", "line 2: more than 4096 fields"},
         }) {
        auto r = parse_device_input(c.text);
        ASSERT_FALSE(r) << "accepted: " << c.text.substr(0, 60);
        EXPECT_EQ(r.kind(), ErrorKind::Input);
        EXPECT_TRUE(contains(r.message(), c.want)) << r.message() << " (wanted: " << c.want << ")";
    }
}

TEST(DeviceInput, ARowOfExactlyTheMostFieldsIsRead) {
    // 4095 commas: 4096 fields, the name in the first.
    auto r = parse_device_input("Device Name\nSEP001122334455" + std::string(kMaxDeviceInputFieldsPerRow - 1, ',') + "\n");
    ASSERT_TRUE(r) << r.message();
    ASSERT_EQ(r->rows.size(), 1u);
    EXPECT_EQ(r->rows[0].name, "SEP001122334455");
}

TEST(DeviceInput, ASpreadsheetsTrailingEmptyColumnIsNotASecondValue) {
    auto b = batch_of("SEP001122334455,\r\nSEP0011223344AA,,\r\n");
    ASSERT_TRUE(b) << b.message();
    EXPECT_EQ(b->devices.size(), 2u);
}

TEST(DeviceInput, CommandLineNamesFollowTheSameRules) {
    auto b = batch_from_names({"sep001122334455", "SEP001122334455"});
    ASSERT_TRUE(b) << b.message();
    ASSERT_EQ(b->devices.size(), 1u);
    EXPECT_EQ(b->where(b->devices[0]), "");
    EXPECT_EQ(b->duplicate_notes()[0], "SEP001122334455 was given more than once; acting on it once");
    EXPECT_FALSE(batch_from_names({"SEP001122334455", "bad name"}));
}
