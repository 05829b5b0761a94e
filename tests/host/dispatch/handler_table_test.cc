#include "dispatch/handler_table.h"

#include <gtest/gtest.h>

#include "fakes/fake_message_handler.h"

namespace outboxd {
namespace {

using testing::FakeMessageHandler;

TEST(HandlerTableTest, LookupIsCaseInsensitive) {  // scenario 25
  auto h = std::make_shared<FakeMessageHandler>("email");
  std::shared_ptr<const HandlerTable> table;
  ASSERT_TRUE(HandlerTable::Build({{"Email.Send", h}}, &table).ok());
  EXPECT_EQ(table->Find("email.send"), h.get());
  EXPECT_EQ(table->Find("EMAIL.SEND"), h.get());
  EXPECT_EQ(table->Find("email.sent"), nullptr);
  EXPECT_EQ(table->Topics(), std::vector<std::string>{"Email.Send"});
}

TEST(HandlerTableTest, TopicsDifferingOnlyByCaseClash) {
  auto a = std::make_shared<FakeMessageHandler>("a");
  auto b = std::make_shared<FakeMessageHandler>("b");
  std::shared_ptr<const HandlerTable> table;
  Status s = HandlerTable::Build({{"Email.Send", a}, {"email.send", b}}, &table);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("a"), std::string::npos);
  EXPECT_NE(s.message().find("b"), std::string::npos);
}

TEST(HandlerTableTest, EmptyTopicRejected) {
  std::shared_ptr<const HandlerTable> table;
  EXPECT_FALSE(HandlerTable::Build({{"", std::make_shared<FakeMessageHandler>()}}, &table).ok());
}

TEST(HandlerTableTest, ParkUnknownParksEveryTopicWithoutARoute) {
  auto handler = std::make_shared<testing::FakeMessageHandler>("h");
  std::shared_ptr<const HandlerTable> table;
  ASSERT_TRUE(HandlerTable::Build({{"Orders", handler}}, {}, /*park_unknown=*/true, &table).ok());
  EXPECT_TRUE(table->parks_unknown());
  EXPECT_TRUE(table->IsParked("anything"));
  EXPECT_FALSE(table->IsParked("orders"));
  EXPECT_TRUE(table->ParkedTopics().empty());
  ASSERT_TRUE(HandlerTable::Build({{"Orders", handler}}, {}, &table).ok());
  EXPECT_FALSE(table->parks_unknown());
  EXPECT_FALSE(table->IsParked("anything"));
}

}  // namespace
}  // namespace outboxd
