// CachingDiscoverySource: the seed's caching wrapper. Serves the last successful listing for `ttl`
// (measured on the monotonic clock) before asking the wrapped source again; failures are not
// cached. With ttl 0 every call goes through.
//
// OWNERSHIP: owns the wrapped source. THREADING: same as DiscoverySource (one call at a time).
#ifndef OUTBOXD_DISCOVERY_CACHING_DISCOVERY_SOURCE_H_
#define OUTBOXD_DISCOVERY_CACHING_DISCOVERY_SOURCE_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "discovery/discovery_source.h"

namespace outboxd {

class CachingDiscoverySource : public DiscoverySource {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  CachingDiscoverySource(std::unique_ptr<DiscoverySource> inner, std::chrono::milliseconds ttl,
                         Clock clock = &std::chrono::steady_clock::now);

  Status Discover(std::vector<TenantLocation>* out) override;
  std::string Describe() const override;

 private:
  std::unique_ptr<DiscoverySource> inner_;
  std::chrono::milliseconds ttl_;
  Clock clock_;
  std::optional<std::chrono::steady_clock::time_point> cached_at_;
  std::vector<TenantLocation> cached_;
};

}  // namespace outboxd

#endif  // OUTBOXD_DISCOVERY_CACHING_DISCOVERY_SOURCE_H_
