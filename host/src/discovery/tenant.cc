#include "discovery/tenant.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "common/exponential_backoff.h"

namespace outboxd {

Tenant::Tenant(TenantLocation location, std::unique_ptr<OutboxStore> store)
    : location_(std::move(location)), store_(std::move(store)) {}

bool Tenant::Available(TimePoint now) const {
  MutexLock lock(&mu_);
  return failures_ == 0 || now >= retry_at_;
}

void Tenant::RecordFailure(const Status& status, TimePoint now) {
  std::chrono::milliseconds delay;
  {
    MutexLock lock(&mu_);
    delay = ExponentialDelay(kMinBackoff, kMaxBackoff, failures_);  // 1, 2, 4, ... 60 s
    ++failures_;
    retry_at_ = now + delay;
    last_error_ = RedactConnectionSecrets(status.message(), location().connection_string);
  }
  CountError();
  spdlog::warn("Outbox database '{}' unavailable: {}; retrying in {} ms", id(),
               RedactConnectionSecrets(status.message(), location().connection_string),
               delay.count());
}

void Tenant::RecordSuccess() {
  int was;
  {
    MutexLock lock(&mu_);
    was = failures_;
    failures_ = 0;
  }
  if (was > 0) spdlog::info("Outbox database '{}' is available again", id());
}

Tenant::Health Tenant::health() const {
  MutexLock lock(&mu_);
  return Health{failures_, retry_at_, last_error_};
}

int Tenant::consecutive_failures() const {
  MutexLock lock(&mu_);
  return failures_;
}

}  // namespace outboxd
