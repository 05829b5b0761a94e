#include "daemon/discovery_session.h"

#include <map>
#include <set>
#include <string>
#include <utility>

namespace outboxd {

DiscoverySession::~DiscoverySession() {
  discovery_.Set(nullptr);
  reloader_.reset();
}

Status DiscoverySession::Open(const OutboxdConfig& config, std::unique_ptr<DiscoverySession>* out) {
  std::unique_ptr<DiscoverySession> session(new DiscoverySession());
  session->handlers_ = config.handlers;
  OBX_RETURN_IF_ERROR(session->staging_.Open(config.staging_dir));
  PluginReloaderOptions options;
  options.plugin_dir = config.plugin_dir;
  options.load.staging_dir = session->staging_.path();
  options.load.sha256_allowlist = config.plugin_sha256_allowlist;
  options.allow_insecure = config.allow_insecure_plugin_dir;
  options.discovery_plugin = config.discovery.plugin;
  options.discovery_config_json = config.discovery.config_json;
  options.discovery_only = true;
  session->reloader_ = std::make_unique<PluginReloader>(
      std::move(options), &session->routing_, &session->discovery_, &session->reaper_);
  OBX_RETURN_IF_ERROR(session->reloader_->LoadInitial());
  *out = std::move(session);
  return Status::OK();
}

Status DiscoverySession::Discover(std::vector<TenantLocation>* out) {
  out->clear();
  return discovery_.Discover(out);
}

std::vector<std::string> DiscoverySession::HandlerTopics() const {
  std::map<std::string, std::shared_ptr<LoadedPlugin>> handler_plugins;
  for (const std::shared_ptr<LoadedPlugin>& plugin : reloader_->LivePlugins()) {
    if (plugin->is_handler()) handler_plugins.emplace(plugin->name(), plugin);
  }
  std::vector<std::string> topics;
  std::set<std::string> configured;
  for (const HandlerConfig& hc : handlers_) {
    configured.insert(hc.plugin);
    auto it = handler_plugins.find(hc.plugin);
    const std::vector<std::string>& list =
        !hc.topics.empty() || it == handler_plugins.end() ? hc.topics
                                                           : it->second->declared_topics();
    topics.insert(topics.end(), list.begin(), list.end());
  }
  for (const auto& [name, plugin] : handler_plugins) {
    if (configured.count(name) != 0) continue;
    topics.insert(topics.end(), plugin->declared_topics().begin(),
                  plugin->declared_topics().end());
  }
  return topics;
}

}  // namespace outboxd
