#include "observe/status_document.h"

#include <nlohmann/json.hpp>

#include "store/tenant_location.h"

namespace outboxd {

std::string StatusDocument(const FleetState& state) {
  using nlohmann::json;
  json tenants = json::array();
  for (const FleetState::Tenant& t : state.tenants) {
    json tenant = {{"id", t.id},
                   {"location", RedactConnectionString(t.connection)},
                   {"state", t.up ? "ok" : "backed_off"},
                   {"store_errors", t.store_errors}};
    if (!t.schema.empty()) tenant["schema"] = t.schema;
    if (!t.table.empty()) tenant["table"] = t.table;
    if (!t.up) {
      tenant["next_retry_in_ms"] = t.retry_in_ms;
      tenant["consecutive_failures"] = t.failures;
      tenant["last_error"] = t.last_error;
    }
    if (t.backlog_known) {
      tenant["backlog"] = {{"ready_due", t.backlog.ready_due},
                           {"in_progress", t.backlog.in_progress},
                           {"failed", t.backlog.failed},
                           {"oldest_ready_age_seconds",
                            static_cast<double>(t.backlog.oldest_ready_age_ms) / 1000.0},
                           {"sampled_seconds_ago", static_cast<double>(t.backlog_age_ms) / 1000.0}};
    } else {
      tenant["backlog"] = nullptr;
    }
    tenants.push_back(std::move(tenant));
  }
  json plugins = json::array();
  for (const FleetState::Plugin& p : state.plugins) {
    json kinds = json::array();
    if (p.handler) kinds.push_back("handler");
    if (p.discovery) kinds.push_back("discovery");
    plugins.push_back({{"name", p.name},
                       {"version", p.version},
                       {"generation", p.generation},
                       {"sha256", p.sha256},
                       {"file", p.file},
                       {"kinds", kinds}});
  }
  json doc = {
      {"version", state.version},
      {"time_unix_ms", state.now_unix_ms},
      {"ready", state.not_ready.empty()},
      {"not_ready", state.not_ready},
      {"healthy", state.unhealthy.empty()},
      {"tenants", tenants},
      {"topics", state.routes},
      {"parked_topics", state.parked_topics},
      {"plugins", plugins},
      {"plugin_load_errors", state.plugin_load_errors},
      {"discovery",
       {{"last_success_unix_ms", state.discovery_last_success_unix_ms},
        {"errors", state.discovery_errors},
        {"added", state.discovery_added},
        {"removed", state.discovery_removed},
        {"recreated", state.discovery_recreated}}},
      {"connections",
       {{"open", state.connections},
        {"limit", state.connections_limit},
        {"notify_listeners", state.notify_listeners}}},
      {"counters", state.counters},
  };
  if (!state.unhealthy.empty()) doc["unhealthy"] = state.unhealthy;
  return doc.dump(2) + "\n";
}

std::string NotReadyDocument(const std::vector<std::string>& reasons) {
  nlohmann::json doc = {{"ready", false}, {"reasons", reasons}};
  return doc.dump() + "\n";
}

}  // namespace outboxd
