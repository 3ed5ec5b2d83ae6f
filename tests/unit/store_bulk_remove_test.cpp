// Bulk `device remove` and `op cancel` (Store::remove_devices, cancel_operations):
// every name is checked before anything is written, then the writes go in
// bounded transactions like the bulk adds (store_bulk.cpp).

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

}  // namespace
}  // namespace lscgate
