#include "ctl/tenant_fleet.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>

#include "support/temp_dir.h"

namespace outboxd {
namespace {

TenantLocation Sqlite(const std::filesystem::path& db, const std::string& id) {
  TenantLocation location;
  location.identifier = id;
  location.connection_string = "sqlite:" + db.string();
  return location;
}

// kTable creates or upgrades a table but never a missing SQLite file (failed show, replay).
TEST(CtlTenantFleetTest, OneMissingDatabaseFailsAloneAndNothingIsCreated) {
  testing::TempDir dir;
  std::unique_ptr<TenantFleet> good =
      TenantFleet::FromLocation(Sqlite(dir / "a.db", "a"), TenantFleet::Create::kAll);
  std::vector<Status> made =
      good->Visit([](std::size_t, OutboxStore& store) { return store.EnsureSchema(); });
  ASSERT_TRUE(made[0].ok()) << made[0].ToString();

  std::unique_ptr<TenantFleet> missing =
      TenantFleet::FromLocation(Sqlite(dir / "missing.db", "m"), TenantFleet::Create::kTable);
  std::vector<Status> results = missing->Visit([](std::size_t, OutboxStore& store) {
    StoreStats stats;
    return store.GetStats(&stats);
  });
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].ok());
  EXPECT_FALSE(std::filesystem::exists(dir / "missing.db"));
  EXPECT_NE(TenantError(missing->tenants()[0], results[0]).find("tenant 'm' (sqlite:"),
            std::string::npos);
}

TEST(CtlTenantFleetTest, VisitRunsAtMostParallelismTenantsAtOnceAndEveryTenantOnce) {
  testing::TempDir dir;
  std::vector<TenantLocation> locations;
  for (int i = 0; i < 12; ++i) {
    locations.push_back(Sqlite(dir / ("t" + std::to_string(i) + ".db"), "t" + std::to_string(i)));
  }
  std::unique_ptr<TenantFleet> fleet =
      TenantFleet::FromLocations(locations, TenantFleet::Create::kAll);
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  int most = 0;
  std::multiset<std::string> seen;
  std::vector<Status> results = fleet->Visit(
      [&](std::size_t i, OutboxStore& store) {
        std::unique_lock<std::mutex> lock(mu);
        EXPECT_EQ(store.location().identifier, locations[i].identifier);
        seen.insert(store.location().identifier);
        ++in_flight;
        most = std::max(most, in_flight);
        cv.notify_all();
        // Wait (bounded) until 3 run at once: a missing bound would then show as 4 or more.
        cv.wait_for(lock, std::chrono::seconds(5), [&] { return in_flight >= 3; });
        --in_flight;
        return i == 5 ? Status::Unavailable("tenant five is down") : Status::OK();
      },
      /*parallelism=*/3);
  ASSERT_EQ(results.size(), 12u);
  for (std::size_t i = 0; i < results.size(); ++i) EXPECT_EQ(results[i].ok(), i != 5) << i;
  EXPECT_EQ(most, 3);
  EXPECT_EQ(seen.size(), 12u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 12u);
}

TEST(CtlTenantFleetTest, TenantErrorRedactsPasswords) {
  TenantLocation location;
  location.connection_string = "postgresql://app:hunter2@db.example/c1";
  location.identifier = "c1";
  std::string text = TenantError(
      location, Status::Unavailable("cannot connect to postgresql://app:hunter2@db.example/c1"));
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_EQ(text.rfind("tenant 'c1' (postgresql://app:***@db.example/c1): ", 0), 0u) << text;
  location.identifier = RedactConnectionString(location.connection_string);
  text = TenantError(location, Status::Unavailable("down"));
  EXPECT_EQ(text, "postgresql://app:***@db.example/c1: down");
}

TEST(CtlTenantFleetTest, ConfigErrorsAreInvalidArgument) {
  testing::TempDir dir;
  std::unique_ptr<TenantFleet> fleet;
  Status s = TenantFleet::FromConfig((dir / "missing.json").string(), "",
                                     TenantFleet::Create::kNothing, &fleet);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_EQ(s.message().rfind("config: ", 0), 0u) << s.message();
}

}  // namespace
}  // namespace outboxd
