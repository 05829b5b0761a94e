#include "observe/status_document.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace outboxd {
namespace {

TEST(StatusDocumentTest, LocationsAreRedactedAndBackedOffTenantsSayWhy) {
  FleetState state;
  FleetState::Tenant t;
  t.id = "t1";
  t.connection = "postgresql://app:hunter2@db.internal:5432/t1";
  t.up = false;
  t.failures = 2;
  t.retry_in_ms = 1500;
  t.last_error = "connection refused";
  state.tenants.push_back(t);
  state.not_ready = {"no discovery has succeeded yet"};
  const std::string text = StatusDocument(state);
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  nlohmann::json doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc["tenants"][0]["state"], "backed_off");
  EXPECT_EQ(doc["tenants"][0]["next_retry_in_ms"], 1500);
  EXPECT_EQ(doc["tenants"][0]["last_error"], "connection refused");
  EXPECT_NE(doc["tenants"][0]["location"].get<std::string>().find("db.internal"), std::string::npos);
  EXPECT_EQ(doc["ready"], false);
  EXPECT_EQ(doc["tenants"][0]["backlog"], nullptr);
}

TEST(StatusDocumentTest, NotReadyDocumentListsTheReasons) {
  nlohmann::json doc = nlohmann::json::parse(NotReadyDocument({"a", "b"}));
  EXPECT_EQ(doc["ready"], false);
  EXPECT_EQ(doc["reasons"], nlohmann::json::array({"a", "b"}));
}

}  // namespace
}  // namespace outboxd
