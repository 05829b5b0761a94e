#include "discovery/tenant_set.h"

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <thread>

#include "fakes/fake_discovery_source.h"
#include "fakes/fake_outbox_store.h"
#include "support/log_capture.h"

namespace outboxd {
namespace {

using testing::FakeDiscoverySource;
using testing::FakeOutboxStore;
using testing::LogCapture;

class TenantSetTest : public ::testing::Test {
 protected:
  StoreFactory Factory() {
    return [this](const TenantLocation& l, std::unique_ptr<OutboxStore>* out) {
      if (l.connection_string == "bad:") return Status::InvalidArgument("unsupported connection");
      auto store = std::make_unique<FakeOutboxStore>(l.identifier);
      if (l.connection_string.find("noschema") != std::string::npos) {
        store->FailNext(FakeOutboxStore::Op::kEnsureSchema, Status::Unavailable("locked"));
      }
      *out = std::move(store);
      return Status::OK();
    };
  }
  std::vector<std::string> Ids(const TenantSet& p) {
    std::vector<std::string> ids;
    const std::shared_ptr<const TenantList> snapshot = p.Snapshot();
    for (const auto& s : *snapshot) ids.push_back(s->id());
    return ids;
  }
  static TenantLocation Loc(const std::string& id, const std::string& conn = "") {
    return FakeDiscoverySource::Location(id, conn);
  }

  FakeDiscoverySource discovery_;
};

TEST_F(TenantSetTest, InitialDiscoveryCreatesOneStorePerDatabase) {  // scenario 43
  LogCapture log;
  discovery_.Set({Loc("c1"), Loc("c2")});
  TenantSet tenant_set(&discovery_, Factory());
  EXPECT_TRUE(tenant_set.Snapshot()->empty());
  ASSERT_TRUE(tenant_set.Refresh().ok());
  EXPECT_EQ(Ids(tenant_set), (std::vector<std::string>{"c1", "c2"}));
  EXPECT_TRUE(log.Contains("Discovered new outbox database: c1"));
  EXPECT_TRUE(log.Contains("Discovered new outbox database: c2"));
  EXPECT_TRUE(log.Contains("Discovery complete. Managing 2 outbox databases"));
}

TEST_F(TenantSetTest, AddsAndRemovesOnRefresh) {  // scenario 44
  discovery_.Set({Loc("c1")});
  TenantSet tenant_set(&discovery_, Factory());
  ASSERT_TRUE(tenant_set.Refresh().ok());
  discovery_.Set({Loc("c1"), Loc("c2")});
  ASSERT_TRUE(tenant_set.Refresh().ok());
  EXPECT_EQ(Ids(tenant_set), (std::vector<std::string>{"c1", "c2"}));
  LogCapture log;
  discovery_.Set({Loc("c1")});
  ASSERT_TRUE(tenant_set.Refresh().ok());
  EXPECT_EQ(Ids(tenant_set), (std::vector<std::string>{"c1"}));
  EXPECT_TRUE(log.Contains("Outbox database removed: c2"));
  EXPECT_TRUE(log.Contains("Discovery complete. Managing 1 outbox databases"));
}

TEST_F(TenantSetTest, ChangedTargetRecreatesStoreUnchangedKeepsIt) {  // scenario 46
  discovery_.Set({Loc("c1"), Loc("c2")});
  TenantSet tenant_set(&discovery_, Factory());
  ASSERT_TRUE(tenant_set.Refresh().ok());
  auto before = tenant_set.Snapshot();
  TenantLocation moved = Loc("c2", "fake:elsewhere");
  TenantLocation retabled = Loc("c1");
  retabled.table_name = "outbox2";
  discovery_.Set({Loc("c1"), moved});
  ASSERT_TRUE(tenant_set.Refresh().ok());
  auto after = tenant_set.Snapshot();
  EXPECT_EQ((*before)[0].get(), (*after)[0].get());
  EXPECT_NE((*before)[1].get(), (*after)[1].get());
  EXPECT_EQ((*after)[1]->location().connection_string, "fake:elsewhere");
  discovery_.Set({retabled, moved});
  ASSERT_TRUE(tenant_set.Refresh().ok());
  EXPECT_NE((*after)[0].get(), (*tenant_set.Snapshot())[0].get());
  // The old snapshot is immutable and still usable by whoever holds it.
  EXPECT_EQ((*before)[1]->location().connection_string, "fake:c2");
}

TEST_F(TenantSetTest, DiscoveryFailureKeepsCurrentSet) {  // scenario 47
  discovery_.Set({Loc("c1"), Loc("c2")});
  TenantSet tenant_set(&discovery_, Factory());
  ASSERT_TRUE(tenant_set.Refresh().ok());
  LogCapture log;
  discovery_.SetError(Status::Unavailable("global database down"));
  Status s = tenant_set.Refresh();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(Ids(tenant_set).size(), 2u);
  EXPECT_TRUE(log.Contains("global database down"));
}

TEST_F(TenantSetTest, EmptyResultKeepsSetUnlessAllowed) {  // B5
  discovery_.Set({Loc("c1")});
  TenantSet guarded(&discovery_, Factory());
  ASSERT_TRUE(guarded.Refresh().ok());
  discovery_.Set({});
  LogCapture log;
  ASSERT_TRUE(guarded.Refresh().ok());
  EXPECT_EQ(Ids(guarded).size(), 1u);
  EXPECT_TRUE(log.Contains("allow_empty"));

  discovery_.Set({Loc("c1")});
  TenantSet permissive(&discovery_, Factory(), TenantSetOptions{true, true});
  ASSERT_TRUE(permissive.Refresh().ok());
  discovery_.Set({});
  ASSERT_TRUE(permissive.Refresh().ok());
  EXPECT_TRUE(Ids(permissive).empty());
}

TEST_F(TenantSetTest, SchemaFailureStillAddsStoreBackedOff) {  // scenario 48
  discovery_.Set({Loc("c1", "fake:noschema"), Loc("c2")});
  TenantSet tenant_set(&discovery_, Factory());
  ASSERT_TRUE(tenant_set.Refresh().ok());
  auto snap = tenant_set.Snapshot();
  ASSERT_EQ(snap->size(), 2u);
  EXPECT_FALSE((*snap)[0]->Available(std::chrono::steady_clock::now()));
  EXPECT_TRUE((*snap)[1]->Available(std::chrono::steady_clock::now()));
}

TEST_F(TenantSetTest, UnopenableStoreIsSkippedOthersAdded) {
  LogCapture log;
  discovery_.Set({Loc("c1", "bad:"), Loc("c2")});
  TenantSet tenant_set(&discovery_, Factory());
  ASSERT_TRUE(tenant_set.Refresh().ok());
  EXPECT_EQ(Ids(tenant_set), std::vector<std::string>{"c2"});
  EXPECT_TRUE(log.Contains("Cannot open outbox database 'c1'"));
}

TEST_F(TenantSetTest, DuplicateIdentifierFirstWins) {
  discovery_.Set({Loc("c1", "fake:first"), Loc("c1", "fake:second")});
  TenantSet tenant_set(&discovery_, Factory());
  ASSERT_TRUE(tenant_set.Refresh().ok());
  ASSERT_EQ(tenant_set.Snapshot()->size(), 1u);
  EXPECT_EQ((*tenant_set.Snapshot())[0]->location().connection_string, "fake:first");
}

TEST_F(TenantSetTest, ConcurrentRefreshesShareOneDiscovery) {  // B6
  discovery_.Set({Loc("c1")});
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  discovery_.SetHook([released] { released.wait(); });
  TenantSet tenant_set(&discovery_, Factory());
  std::vector<std::future<Status>> callers;
  callers.push_back(std::async(std::launch::async, [&] { return tenant_set.Refresh(); }));
  while (discovery_.calls() < 1) std::this_thread::yield();
  for (int i = 0; i < 4; ++i) {
    callers.push_back(std::async(std::launch::async, [&] { return tenant_set.Refresh(); }));
  }
  while (tenant_set.waiting_for_test() < 4) std::this_thread::yield();
  release.set_value();
  for (auto& f : callers) EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(discovery_.calls(), 1);
  EXPECT_EQ(tenant_set.Snapshot()->size(), 1u);
}

}  // namespace
}  // namespace outboxd
