#include "discovery/caching_discovery_source.h"

#include <gtest/gtest.h>

#include "fakes/fake_discovery_source.h"

namespace outboxd {
namespace {

using testing::FakeDiscoverySource;

class Forwarding : public DiscoverySource {
 public:
  explicit Forwarding(FakeDiscoverySource* inner) : inner_(inner) {}
  Status Discover(std::vector<TenantLocation>* out) override { return inner_->Discover(out); }
  std::string Describe() const override { return "fwd"; }

 private:
  FakeDiscoverySource* inner_;
};

TEST(CachingDiscoverySourceTest, ServesCacheWithinTtlAndRefetchesAfter) {
  FakeDiscoverySource fake;
  fake.Set({FakeDiscoverySource::Location("a")});
  auto now = std::chrono::steady_clock::time_point{};
  CachingDiscoverySource cached(std::make_unique<Forwarding>(&fake), std::chrono::minutes(2),
                                [&] { return now; });
  std::vector<TenantLocation> out;
  ASSERT_TRUE(cached.Discover(&out).ok());
  fake.Set({FakeDiscoverySource::Location("a"), FakeDiscoverySource::Location("b")});
  now += std::chrono::minutes(1);
  ASSERT_TRUE(cached.Discover(&out).ok());
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(fake.calls(), 1);
  now += std::chrono::minutes(2);
  ASSERT_TRUE(cached.Discover(&out).ok());
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(fake.calls(), 2);
}

TEST(CachingDiscoverySourceTest, FailuresAreNotCached) {
  FakeDiscoverySource fake;
  fake.SetError(Status::Unavailable("down"));
  auto now = std::chrono::steady_clock::time_point{};
  CachingDiscoverySource cached(std::make_unique<Forwarding>(&fake), std::chrono::minutes(2),
                                [&] { return now; });
  std::vector<TenantLocation> out;
  EXPECT_FALSE(cached.Discover(&out).ok());
  fake.Set({FakeDiscoverySource::Location("a")});
  ASSERT_TRUE(cached.Discover(&out).ok());
  EXPECT_EQ(out.size(), 1u);
}

}  // namespace
}  // namespace outboxd
