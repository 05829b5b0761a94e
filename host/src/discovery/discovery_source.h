// DiscoverySource: lists the tenant databases to poll. The daemon adapts the configured discovery
// plugin to it (reload/plugin_discovery_source.h); CachingDiscoverySource wraps any source; tests
// use FakeDiscoverySource.
//
// THREADING: Discover is called by the TenantSet's refresh, one call at a time.
#ifndef OUTBOXD_DISCOVERY_DISCOVERY_SOURCE_H_
#define OUTBOXD_DISCOVERY_DISCOVERY_SOURCE_H_

#include <string>
#include <vector>

#include "common/status.h"
#include "store/tenant_location.h"

namespace outboxd {

class DiscoverySource {
 public:
  virtual ~DiscoverySource() = default;
  // Replaces *out with every current tenant database. On error *out is unspecified and the caller
  // keeps the tenant set it has.
  virtual Status Discover(std::vector<TenantLocation>* out) = 0;
  // For logs: e.g. "sql@1.0.0".
  virtual std::string Describe() const = 0;
};

}  // namespace outboxd

#endif  // OUTBOXD_DISCOVERY_DISCOVERY_SOURCE_H_
