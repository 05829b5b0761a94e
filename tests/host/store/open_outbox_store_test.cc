// OpenOutboxStore: scheme dispatch, lazy opening and password-free messages.
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "store/outbox_store.h"
#include "store_test_support.h"

namespace outboxd::testing {
namespace {

StoreLocation WithConnection(const std::string& connection_string) {
  StoreLocation location;
  location.identifier = "customer-001";
  location.connection_string = connection_string;
  return location;
}

TEST(OpenOutboxStoreTest, SqliteSchemeOpensLazily) {
  TempDir dir;
  std::string path = (dir / "lazy.db").string();
  std::unique_ptr<OutboxStore> store;
  StoreOptions options;
  options.create_database = true;
  ASSERT_TRUE(OpenOutboxStore(WithConnection("sqlite:" + path), options, &store).ok());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->location().identifier, "customer-001");
  EXPECT_EQ(store->location().connection_string, "sqlite:" + path);
  EXPECT_FALSE(std::filesystem::exists(path)) << "no database access before first use";
  StoreStats stats;
  EXPECT_TRUE(store->GetStats(&stats).ok());
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST(OpenOutboxStoreTest, PostgresIsNotSupportedYetAndThePasswordIsRedacted) {
  for (std::string scheme : {"postgresql", "postgres"}) {
    std::unique_ptr<OutboxStore> store;
    Status status = OpenOutboxStore(
        WithConnection(scheme + "://app:s3cret@db.internal:5432/tenant1"), StoreOptions(), &store);
    EXPECT_EQ(status.code(), Status::Code::kNotSupported) << scheme;
    EXPECT_EQ(status.message(), "PostgreSQL stores are not available in this build yet: " +
                                    scheme + "://app:***@db.internal:5432/tenant1");
    EXPECT_EQ(store, nullptr);
  }
}

TEST(OpenOutboxStoreTest, UnknownSchemeIsInvalidAndRedacted) {
  std::unique_ptr<OutboxStore> store;
  Status status =
      OpenOutboxStore(WithConnection("mysql://root:hunter2@localhost/db"), StoreOptions(), &store);
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(status.message().find("mysql://root:***@localhost/db"), std::string::npos)
      << status.message();
  EXPECT_EQ(status.message().find("hunter2"), std::string::npos);
  EXPECT_NE(status.message().find("customer-001"), std::string::npos);

  for (std::string bad : {"", "sqlite:", "sqlite::memory:", "tenant.db"}) {
    EXPECT_EQ(OpenOutboxStore(WithConnection(bad), StoreOptions(), &store).code(),
              Status::Code::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(store, nullptr);
}

TEST(OpenOutboxStoreTest, BadOptionsAreRejected) {
  std::unique_ptr<OutboxStore> store;
  StoreOptions options;
  options.max_connections = 0;
  EXPECT_EQ(OpenOutboxStore(WithConnection("sqlite:/tmp/x.db"), options, &store).code(),
            Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace outboxd::testing
