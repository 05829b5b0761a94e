#include "daemon/discovery_session.h"

#include <utility>

namespace outboxd {

DiscoverySession::~DiscoverySession() {
  discovery_.Set(nullptr);
  reloader_.reset();
}

Status DiscoverySession::Open(const OutboxdConfig& config, std::unique_ptr<DiscoverySession>* out) {
  std::unique_ptr<DiscoverySession> session(new DiscoverySession());
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

Status DiscoverySession::Discover(std::vector<StoreLocation>* out) {
  out->clear();
  return discovery_.Discover(out);
}

}  // namespace outboxd
