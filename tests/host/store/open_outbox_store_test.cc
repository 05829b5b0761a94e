// OpenOutboxStore: scheme dispatch (sqlite:, postgresql://, postgres://), lazy opening and
// password-free messages. None of these needs a database server.
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "store/outbox_store.h"
#include "store/sql/sql_outbox_store.h"
#include "store_test_support.h"
#include "support/hostile_connections.h"

namespace outboxd::testing {
namespace {

TenantLocation WithConnection(const std::string& connection_string) {
  TenantLocation location;
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

// Opening touches no server: a PostgreSQL URI opens even when nothing listens there, and the
// first use reports the server Unavailable.
TEST(OpenOutboxStoreTest, PostgresSchemesOpenLazily) {
  TempDir dir;  // a socket directory without a server in it: libpq fails at once
  for (std::string scheme : {"postgresql", "postgres", "PostgreSQL"}) {
    const std::string connection =
        scheme + "://app:s3cret@/tenant1?host=" + (dir / "no-server").string();
    std::unique_ptr<OutboxStore> store;
    Status status = OpenOutboxStore(WithConnection(connection), StoreOptions(), &store);
    ASSERT_TRUE(status.ok()) << scheme << ": " << status.ToString();
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->location().connection_string, connection);
    EXPECT_EQ(store->location().schema_name, "infra");
    auto* poco = dynamic_cast<sql_store::SqlOutboxStore*>(store.get());
    ASSERT_NE(poco, nullptr);
    EXPECT_EQ(poco->dialect().name(), "PostgreSQL");
    EXPECT_EQ(poco->open_connections(), 0) << "no connection before first use";

    StoreStats stats;
    Status first_use = store->GetStats(&stats);
    EXPECT_EQ(first_use.code(), Status::Code::kUnavailable) << first_use.ToString();
    EXPECT_EQ(first_use.message().find("s3cret"), std::string::npos) << first_use.message();
  }
}

TEST(OpenOutboxStoreTest, MalformedPostgresUriIsInvalidAndRedacted) {
  for (const std::string& connection :
       {std::string("postgresql://app:s3cret@db.internal/tenant1?bogus=1"),
        std::string("postgresql://app:s3cret@[::1/tenant1"),
        std::string("postgres://app:s3cret@db.internal/tenant1?sslmode")}) {
    std::unique_ptr<OutboxStore> store;
    Status status = OpenOutboxStore(WithConnection(connection), StoreOptions(), &store);
    EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << connection;
    EXPECT_NE(status.message().find("malformed PostgreSQL connection string"), std::string::npos)
        << status.message();
    EXPECT_NE(status.message().find("://app:***@"), std::string::npos) << status.message();
    EXPECT_NE(status.message().find("customer-001"), std::string::npos) << status.message();
    EXPECT_EQ(status.message().find("s3cret"), std::string::npos) << status.message();
    EXPECT_EQ(store, nullptr);
  }
}

// Issue 14 findings 4 and 5: every hostile shape, through opening and through a first use that
// fails to connect (the store's own message, libpq's message, the "host:port/db" description).
TEST(OpenOutboxStoreTest, HostileConnectionStringsNeverShowTheirSecret) {
  for (const HostileConnection& c : HostileConnections()) {
    std::unique_ptr<OutboxStore> store;
    Status status = OpenOutboxStore(WithConnection(c.connection), StoreOptions(), &store);
    ExpectNoSecret(status.message(), c, "open");
    if (!status.ok()) {
      EXPECT_NE(status.message().find("customer-001"), std::string::npos) << status.message();
      continue;
    }
    StoreStats stats;
    Status first_use = store->GetStats(&stats);
    EXPECT_FALSE(first_use.ok()) << c.name;
    ExpectNoSecret(first_use.message(), c, "first use");
    Status schema = store->EnsureSchema();
    EXPECT_FALSE(schema.ok()) << c.name;
    ExpectNoSecret(schema.message(), c, "EnsureSchema");
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
