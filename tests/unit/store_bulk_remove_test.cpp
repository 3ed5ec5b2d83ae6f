// Bulk `device remove` and `op cancel` (Store::remove_devices, cancel_operations):
// every name is checked before anything is written, then the writes go in
// bounded transactions like the bulk adds (store_bulk.cpp).

#include "registry/sqlite_handles.h"
#include "registry/store.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lscgate {
namespace {

class BulkRemoveAndCancel : public ::testing::Test {
protected:
    test::TempDir dir;
    Store store = test::make_store(dir / "lscgate.db");
    const std::vector<std::string> names = {"SEP0000000020A1", "SEP0000000020A2", "SEP0000000020A3", "SEP0000000020A4",
                                            "SEP0000000020A5"};

    void SetUp() override {
        auto added = store.add_devices(names, "", "", "test");
        ASSERT_FALSE(added.error);
        for (int i = 0; i < 3; ++i) ASSERT_TRUE(store.schedule_operation(names[i], OperationRequest{}, "test"));
    }
    bool pending(const std::string& name) {
        auto dev = store.find_device(name);
        if (!dev || !dev->has_value()) return false;
        auto op = store.open_operation((*dev)->id);
        return op && op->has_value();
    }
    bool registered(const std::string& name) {
        auto dev = store.find_device(name);
        return dev && dev->has_value();
    }
};

TEST_F(BulkRemoveAndCancel, OneNameWithNothingPendingCancelsNoneAndIsNamed) {
    auto r = store.cancel_operations({names[0], names[3]}, "test", 1);
    ASSERT_TRUE(r.error);
    EXPECT_NE(r.error->message.find("has no pending operation"), std::string::npos) << r.error->message;
    ASSERT_TRUE(r.failed_at);
    EXPECT_EQ(*r.failed_at, 1u);
    EXPECT_TRUE(r.done.empty());
    EXPECT_TRUE(pending(names[0])) << "the first name's chunk must not have been written";
}

TEST_F(BulkRemoveAndCancel, CancelsInChunksOfOne) {
    auto r = store.cancel_operations({names[0], names[1], names[2]}, "test", 1);
    ASSERT_FALSE(r.error) << r.error->message;
    EXPECT_EQ(r.done, (std::vector<std::string>{names[0], names[1], names[2]}));
    for (int i = 0; i < 3; ++i) EXPECT_FALSE(pending(names[i])) << names[i];
}

TEST_F(BulkRemoveAndCancel, AnUnknownNameRemovesNoneAndIsNamed) {
    auto r = store.remove_devices({names[4], "SEP0000000020FF"}, "test", 1);
    ASSERT_TRUE(r.error);
    EXPECT_NE(r.error->message.find("no such device"), std::string::npos) << r.error->message;
    ASSERT_TRUE(r.failed_at);
    EXPECT_EQ(*r.failed_at, 1u);
    EXPECT_TRUE(registered(names[4]));
}

TEST_F(BulkRemoveAndCancel, RemovesInChunks) {
    auto r = store.remove_devices({names[3], names[4]}, "test", 1);
    ASSERT_FALSE(r.error) << r.error->message;
    EXPECT_EQ(r.done.size(), 2u);
    EXPECT_FALSE(registered(names[3]));
    EXPECT_FALSE(registered(names[4]));
    EXPECT_TRUE(registered(names[0]));
}

// Every bulk write names the input item its error is about (failed_at), in the
// checks before anything is written and for a write that fails inside a chunk.
TEST_F(BulkRemoveAndCancel, AddAndScheduleNameTheItemTheirErrorIsAbout) {
    auto twice = store.add_devices(std::vector<std::string>{"SEP0000000021A1", "SEP0000000021A1"}, "", "", "test");
    ASSERT_TRUE(twice.error);
    ASSERT_TRUE(twice.failed_at);
    EXPECT_EQ(*twice.failed_at, 1u);
    auto exists = store.add_devices(std::vector<std::string>{"SEP0000000021A2", names[2]}, "", "", "test");
    ASSERT_TRUE(exists.error);
    ASSERT_TRUE(exists.failed_at);
    EXPECT_EQ(*exists.failed_at, 1u);
    auto unknown = store.schedule_operations({{names[3], OperationRequest{}}, {"SEP0000000021FF", OperationRequest{}}}, "test");
    ASSERT_TRUE(unknown.error);
    ASSERT_TRUE(unknown.failed_at);
    EXPECT_EQ(*unknown.failed_at, 1u);
    auto fine = store.add_devices(std::vector<std::string>{"SEP0000000021A3"}, "", "", "test");
    EXPECT_FALSE(fine.error);
    EXPECT_FALSE(fine.failed_at) << "no error, no item named";

    // A write refused inside a chunk (here by a trigger; in the field, a name
    // another writer added between the check and the write): earlier chunks stay.
    ASSERT_TRUE(store.database().exec("CREATE TRIGGER refuse_b2 BEFORE INSERT ON devices WHEN NEW.name = 'SEP0000000021B2' "
                                      "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"));
    auto partial = store.add_devices(std::vector<std::string>{"SEP0000000021B1", "SEP0000000021B2", "SEP0000000021B3"},
                                     "", "", "test", 1);
    ASSERT_TRUE(partial.error);
    ASSERT_TRUE(partial.failed_at);
    EXPECT_EQ(*partial.failed_at, 1u);
    ASSERT_EQ(partial.done.size(), 1u);
    EXPECT_EQ(partial.done[0].name, "SEP0000000021B1");
    EXPECT_TRUE(registered("SEP0000000021B1"));
    EXPECT_FALSE(registered("SEP0000000021B3"));
}

}  // namespace
}  // namespace lscgate
