// FleetState: one consistent-enough snapshot of everything the observation endpoints show, taken
// by the daemon when /metrics or /status is requested (or sd_notify's STATUS= is due): the tenant
// set with health and backlog samples, routing, plugins, discovery and dispatch counters,
// connections, readiness and health. Plain data; copying it takes no lock anywhere.
//
// Secrets: `connection` holds the tenant's connection string as discovered (it may contain a
// password). Everything that prints it goes through RedactConnectionString.
//
// THREADING: plain data; thread-compatible.
#ifndef OUTBOXD_OBSERVE_FLEET_STATE_H_
#define OUTBOXD_OBSERVE_FLEET_STATE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "store/outbox_message.h"

namespace outboxd {

struct FleetState {
  struct Tenant {
    std::string id;
    std::string connection;  // may hold a password: print only through RedactConnectionString
    std::string schema;
    std::string table;
    bool up = true;
    int failures = 0;           // consecutive
    int64_t retry_in_ms = 0;    // while backed off
    std::string last_error;     // while backed off
    bool backlog_known = false;
    StoreBacklog backlog;       // zeros until sampled
    int64_t backlog_age_ms = 0; // how old the sample is
    int64_t store_errors = 0;
  };
  struct Plugin {
    std::string name;
    std::string version;
    uint64_t generation = 0;
    std::string sha256;
    std::string file;  // in plugin_dir
    bool handler = false;
    bool discovery = false;
  };
  std::string version;
  int64_t now_unix_ms = 0;
  std::vector<Tenant> tenants;
  int max_tenant_series = 1000;
  int64_t discovery_last_success_unix_ms = 0;  // 0: never
  int64_t discovery_errors = 0;
  int64_t discovery_added = 0;
  int64_t discovery_removed = 0;
  int64_t discovery_recreated = 0;
  int64_t discovery_records_rejected_total = 0;  // every listing's skipped records, counted
  int64_t discovery_records_rejected = 0;        // skipped by the latest listing
  std::vector<Plugin> plugins;
  int64_t plugin_load_errors = 0;
  std::map<std::string, std::string> routes;  // topic -> handler description
  std::vector<std::string> parked_topics;
  std::map<std::string, int64_t> counters;  // DispatchCounters by name
  std::map<std::string, int> connections;   // open pooled connections by engine
  int connections_limit = 0;
  int notify_listeners = 0;
  int64_t backlog_queries = 0;  // BacklogTracker::queries()
  int64_t backlog_skipped = 0;  // BacklogTracker::skipped()
  std::vector<std::string> not_ready;  // readiness reasons; empty = ready
  std::string unhealthy;               // health reason; empty = healthy
};

}  // namespace outboxd

#endif  // OUTBOXD_OBSERVE_FLEET_STATE_H_
