#include "ctl/tenant_fleet.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <utility>

#include "config/config.h"
#include "daemon/daemon.h"

namespace outboxd {

TenantFleet::~TenantFleet() = default;

Status TenantFleet::FromConfig(const std::string& config_path, const std::string& tenant,
                               Create create, std::unique_ptr<TenantFleet>* out) {
  OutboxdConfig config;
  Status s = LoadConfigFile(config_path, &config);
  if (!s.ok()) return Status::InvalidArgument("config: " + s.message());
  std::unique_ptr<TenantFleet> fleet(new TenantFleet());
  OBX_RETURN_IF_ERROR(DiscoverySession::Open(config, &fleet->session_));
  fleet->park_unknown_topics_ = config.dispatch.unknown_topic == kUnknownTopicPark;
  fleet->handler_topics_ = fleet->session_->HandlerTopics();
  fleet->options_ = StoreOptionsFor(config);
  fleet->options_.max_connections = 1;
  fleet->options_.create_schema = create != Create::kNothing;
  fleet->options_.create_database = create == Create::kAll;
  std::vector<TenantLocation> found;
  OBX_RETURN_IF_ERROR(fleet->session_->Discover(&found).WithContext(
      "discovery plugin '" + config.discovery.plugin + "'"));
  if (!tenant.empty()) {
    auto it = std::find_if(found.begin(), found.end(),
                           [&](const TenantLocation& l) { return l.identifier == tenant; });
    if (it == found.end()) {
      return Status::NotFound("--tenant: discovery plugin '" + config.discovery.plugin +
                              "' lists no tenant '" + tenant + "' (" +
                              std::to_string(found.size()) + " tenants listed)");
    }
    fleet->tenants_.push_back(*it);
  } else {
    fleet->tenants_ = std::move(found);
  }
  *out = std::move(fleet);
  return Status::OK();
}

std::unique_ptr<TenantFleet> TenantFleet::FromLocations(std::vector<TenantLocation> locations,
                                                        Create create) {
  std::unique_ptr<TenantFleet> fleet(new TenantFleet());
  fleet->options_.worker_id = "outboxctl";
  fleet->options_.max_connections = 1;
  fleet->options_.create_schema = create != Create::kNothing;
  fleet->options_.create_database = create == Create::kAll;
  fleet->tenants_ = std::move(locations);
  return fleet;
}

std::vector<Status> TenantFleet::Visit(const Visitor& visit, int parallelism) const {
  std::vector<Status> results(tenants_.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < tenants_.size(); i = next++) {
      std::unique_ptr<OutboxStore> store;
      Status s = OpenOutboxStore(tenants_[i], options_, &store);
      if (s.ok()) s = visit(i, *store);
      results[i] = std::move(s);  // each index is written by one thread only
    }
  };
  const std::size_t threads =
      std::min<std::size_t>(std::max(parallelism, 1), tenants_.size());
  if (threads <= 1) {
    work();
    return results;
  }
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (std::size_t t = 0; t < threads; ++t) pool.emplace_back(work);
  for (std::thread& t : pool) t.join();
  return results;
}

std::string TenantMessage(const TenantLocation& location, const Status& status) {
  std::string message = RedactConnectionSecrets(status.message(), location.connection_string);
  // Stores name themselves ("store 'id': ..."); whoever prints this names the tenant already.
  const std::string self = "store '" + location.identifier + "': ";
  if (message.rfind(self, 0) == 0) message.erase(0, self.size());
  return message;
}

std::string TenantError(const TenantLocation& location, const Status& status) {
  const std::string redacted = RedactConnectionString(location.connection_string);
  const std::string message = TenantMessage(location, status);
  if (location.identifier == redacted) return redacted + ": " + message;
  return "tenant '" + location.identifier + "' (" + redacted + "): " + message;
}

std::string EngineOf(const TenantLocation& location) {
  return location.connection_string.rfind("sqlite:", 0) == 0 ? "sqlite" : "postgresql";
}

}  // namespace outboxd
