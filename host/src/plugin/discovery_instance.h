// DiscoveryInstance: one configured instance of a discovery plugin (vtable create .. destroy), and
// the host side of obx_discovery_vtable.discover: it collects, validates and copies the databases
// the plugin emits into TenantLocations.
//
// A record is kept when identifier and connection_string are non-empty, every field is valid UTF-8
// without control characters, schema/table names are at most 63 bytes (PostgreSQL's limit), and the
// identifier was not already emitted in the same listing. Empty schema/table names become "infra" /
// "outbox". A malformed record is skipped with one warning naming the plugin, the record's
// identifier and the reason; connection strings only ever reach the log through
// RedactConnectionString. The same record skipped again at later listings is counted but logged
// again only when it changes or every 10 minutes (plugin/rejected_record_log.h).
//
// OWNERSHIP: unique; holds its LoadedPlugin, so the plugin's code stays mapped while the instance
// lives. The destructor calls the plugin's destroy.
// THREADING: confined to the control thread (the SDK runs create, discover and destroy there, one
// at a time). RequestAbort may be called from any thread.
#ifndef OUTBOXD_PLUGIN_DISCOVERY_INSTANCE_H_
#define OUTBOXD_PLUGIN_DISCOVERY_INSTANCE_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "plugin/call_context.h"
#include "plugin/loaded_plugin.h"
#include "plugin/rejected_record_log.h"
#include "store/tenant_location.h"

namespace outboxd {

class DiscoveryInstance {
 public:
  // Same contract as HandlerInstance::Create, for plugins of kind discovery.
  static Status Create(std::shared_ptr<LoadedPlugin> plugin, const std::string& config_json,
                       std::unique_ptr<DiscoveryInstance>* out);

  DiscoveryInstance(const DiscoveryInstance&) = delete;
  DiscoveryInstance& operator=(const DiscoveryInstance&) = delete;
  ~DiscoveryInstance();  // calls the plugin's destroy

  // Runs one listing. On success replaces *out with the valid records, in emission order. When the
  // plugin returns an error status (or throws), returns Unavailable with the plugin's error text
  // and leaves *out untouched: the caller keeps the tenant set it has.
  Status Discover(std::vector<TenantLocation>* out);

  // From now on the plugin's should_abort returns non-zero (shutdown).
  void RequestAbort() { abort_.store(true, std::memory_order_relaxed); }

  const LoadedPlugin& plugin() const { return *plugin_; }

 private:
  explicit DiscoveryInstance(std::shared_ptr<LoadedPlugin> plugin);

  const std::shared_ptr<LoadedPlugin> plugin_;  // first member: released last
  const obx_discovery_vtable* const vtable_;    // the plugin_'s host copy
  obx_host_ctx host_ctx_;                       // handed to create; outlives destroy
  bool created_ = false;
  void* instance_ = nullptr;  // plugin-owned
  std::atomic<bool> abort_{false};
  RejectedRecordLog rejected_;  // which skipped records are logged again (finding 18)
};

}  // namespace outboxd

#endif  // OUTBOXD_PLUGIN_DISCOVERY_INSTANCE_H_
