// DiscoverySession: the discovery half of outboxd's wiring, for tools that must see exactly the
// tenants outboxd sees (outboxctl --config). Open() stages and loads plugin_dir through the same
// PluginReloader::LoadInitial as outboxd (folder and file owner/mode policy, SHA-256 allow-list,
// duplicate names, ABI checks) with PluginReloaderOptions::discovery_only, so no handler instance
// is created; then Discover() asks the configured discovery plugin once per call.
//
// OWNERSHIP: owns the staging folder (when it created it), the loaded plugins and the discovery
// instance. THREADING: one call at a time. ERRORS: Open returns InvalidArgument for problems the
// operator must fix in the config or plugin_dir (exit 2), IoError for a staging folder that cannot
// be made; Discover returns the plugin's error.
// HandlerTopics() names the topics outboxd would route with this config and plugin_dir, read from
// the config and the loaded plugins' descriptors only (no handler instance is created).
#ifndef OUTBOXD_DAEMON_DISCOVERY_SESSION_H_
#define OUTBOXD_DAEMON_DISCOVERY_SESSION_H_

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "reload/plugin_reloader.h"
#include "discovery/switchable_discovery_source.h"
#include "dispatch/routing_state.h"
#include "reload/generation_reaper.h"
#include "plugin/staging_dir.h"
#include "store/tenant_location.h"

namespace outboxd {

class DiscoverySession {
 public:
  static Status Open(const OutboxdConfig& config, std::unique_ptr<DiscoverySession>* out);
  DiscoverySession(const DiscoverySession&) = delete;
  DiscoverySession& operator=(const DiscoverySession&) = delete;
  ~DiscoverySession();

  // Every tenant the discovery plugin lists now, in its order.
  Status Discover(std::vector<TenantLocation>* out);

  // The topics outboxd's handlers serve, by the same rule as outboxd's wiring: each
  // handlers[i].topics, or the topics plugin handlers[i].plugin declares when that list is empty;
  // plus the declared topics of every handler plugin no handlers[] entry names. Spelled as
  // written; topics match case-insensitively (FoldTopic). Handler entries whose plugin is not
  // loaded add only their configured topics (outboxd itself would refuse to start).
  std::vector<std::string> HandlerTopics() const;

 private:
  DiscoverySession() = default;

  std::vector<HandlerConfig> handlers_;  // the config's handlers[]
  StagingDir staging_;  // first: removed after the plugins are unloaded
  GenerationReaper reaper_;
  RoutingState routing_;  // stays empty (discovery_only)
  SwitchableDiscoverySource discovery_;
  std::unique_ptr<PluginReloader> reloader_;
};

}  // namespace outboxd

#endif  // OUTBOXD_DAEMON_DISCOVERY_SESSION_H_
