// PluginDiscoverySource: adapts a discovery plugin instance to the TenantSet's DiscoverySource.
// OWNERSHIP: owns the instance. THREADING: one call at a time (the tenant set's refresh).
#ifndef OUTBOXD_RELOAD_PLUGIN_DISCOVERY_SOURCE_H_
#define OUTBOXD_RELOAD_PLUGIN_DISCOVERY_SOURCE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "discovery/discovery_source.h"
#include "plugin/discovery_instance.h"
#include "plugin/loaded_plugin.h"

namespace outboxd {

class PluginDiscoverySource : public DiscoverySource {
 public:
  explicit PluginDiscoverySource(std::unique_ptr<DiscoveryInstance> instance)
      : instance_(std::move(instance)) {}
  Status Discover(std::vector<TenantLocation>* out) override { return instance_->Discover(out); }
  std::string Describe() const override {
    return "plugin '" + instance_->plugin().name() + "' " + instance_->plugin().version();
  }

 private:
  std::unique_ptr<DiscoveryInstance> instance_;
};

}  // namespace outboxd

#endif  // OUTBOXD_RELOAD_PLUGIN_DISCOVERY_SOURCE_H_
