#include "discovery/caching_discovery_source.h"

#include <utility>

namespace outboxd {

CachingDiscoverySource::CachingDiscoverySource(std::unique_ptr<DiscoverySource> inner,
                                               std::chrono::milliseconds ttl, Clock clock)
    : inner_(std::move(inner)), ttl_(ttl), clock_(std::move(clock)) {}

Status CachingDiscoverySource::Discover(std::vector<TenantLocation>* out) {
  const auto now = clock_();
  if (cached_at_ && now - *cached_at_ < ttl_) {
    *out = cached_;
    return Status::OK();
  }
  std::vector<TenantLocation> fresh;
  OBX_RETURN_IF_ERROR(inner_->Discover(&fresh));
  cached_ = fresh;
  cached_at_ = now;
  *out = std::move(fresh);
  return Status::OK();
}

std::string CachingDiscoverySource::Describe() const { return inner_->Describe() + " (cached)"; }

}  // namespace outboxd
