// SwitchableDiscoverySource: the TenantSet's discovery source, whose target the plugin
// reloader swaps when the discovery plugin is replaced (effective at the next refresh) or removed
// (then there is no target; the daemon skips refreshes and the current tenant set stays).
//
// OWNERSHIP: shares its target; a call in progress keeps the target it started with alive.
// THREADING: thread-safe; the lock guards the pointer only, never the Discover call.
#ifndef OUTBOXD_DISCOVERY_SWITCHABLE_DISCOVERY_SOURCE_H_
#define OUTBOXD_DISCOVERY_SWITCHABLE_DISCOVERY_SOURCE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "discovery/discovery_source.h"

namespace outboxd {

class SwitchableDiscoverySource : public DiscoverySource {
 public:
  // nullptr: no discovery until the next Set.
  void Set(std::shared_ptr<DiscoverySource> target) {
    MutexLock lock(&mu_);
    target_.swap(target);
  }
  bool has_target() const {
    MutexLock lock(&mu_);
    return target_ != nullptr;
  }

  // Unavailable (the caller keeps its tenant set) when there is no target.
  Status Discover(std::vector<TenantLocation>* out) override {
    std::shared_ptr<DiscoverySource> target = Target();
    if (!target) return Status::Unavailable("no discovery plugin is loaded");
    return target->Discover(out);
  }
  std::string Describe() const override {
    std::shared_ptr<DiscoverySource> target = Target();
    return target ? target->Describe() : std::string("<no discovery plugin>");
  }

 private:
  std::shared_ptr<DiscoverySource> Target() const {
    MutexLock lock(&mu_);
    return target_;
  }

  mutable Mutex mu_;
  std::shared_ptr<DiscoverySource> target_ GUARDED_BY(mu_);
};

}  // namespace outboxd

#endif  // OUTBOXD_DISCOVERY_SWITCHABLE_DISCOVERY_SOURCE_H_
