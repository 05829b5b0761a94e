// TenantFleet: the tenant databases one outboxctl run works on, and the bounded-parallel visit of
// them. Either outboxd's own tenants (FromConfig: the configured discovery plugin, loaded through
// daemon/discovery_session.h exactly as outboxd loads it, one discovery run; every store opened
// with outboxd's StoreOptions) or one database (FromLocation: --connection).
//
// A visit opens each tenant's store and calls the visitor with it; one tenant's failure (an
// unreachable server, a missing file) is its own result and never stops the others.
//
// OWNERSHIP: owns the discovery session (and so the loaded plugins) until destroyed.
// THREADING: Visit runs the visitor on up to `parallelism` threads at once, each tenant on one of
// them; the visitor must be safe to call concurrently for different indexes. No lock is held while
// the visitor (a database call) runs.
// ERRORS: FromConfig returns the config's own error (InvalidArgument: exit 2, naming the key),
// the discovery plugin's error, or NotFound when --tenant names no discovered tenant.
#ifndef OUTBOXD_CTL_TENANT_FLEET_H_
#define OUTBOXD_CTL_TENANT_FLEET_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "daemon/discovery_session.h"
#include "store/outbox_store.h"
#include "store/tenant_location.h"

namespace outboxd {

class TenantFleet {
 public:
  // Default parallelism of Visit: tenants whose calls run at once. Each holds one connection while
  // it runs, so 8 keeps a run against 500 tenants well inside a server's max_connections.
  static constexpr int kDefaultParallelism = 8;

  // What opening a tenant's store may create (StoreOptions create_database / create_schema).
  enum class Create {
    kNothing,  // reads and most commands: a typo in a location or table fails
    kTable,    // replay, failed show: create or upgrade the table (they need schema version 2)
    kAll,      // schema apply: also a missing SQLite database file
  };

  // `tenant` empty: every discovered tenant; else only that one (NotFound when absent).
  static Status FromConfig(const std::string& config_path, const std::string& tenant,
                           Create create, std::unique_ptr<TenantFleet>* out);
  static std::unique_ptr<TenantFleet> FromLocation(const TenantLocation& location, Create create) {
    return FromLocations({location}, create);
  }
  // Given databases, opened with outboxctl's own options (worker id "outboxctl", 1 connection).
  static std::unique_ptr<TenantFleet> FromLocations(std::vector<TenantLocation> locations,
                                                    Create create);

  TenantFleet(const TenantFleet&) = delete;
  TenantFleet& operator=(const TenantFleet&) = delete;
  ~TenantFleet();

  const std::vector<TenantLocation>& tenants() const { return tenants_; }
  // True for --config (output names tenants), false for --connection.
  bool from_config() const { return session_ != nullptr; }
  // --config only: dispatch.unknown_topic is "park", and the topics outboxd's handlers serve
  // (DiscoverySession::HandlerTopics). false / empty for --connection.
  bool park_unknown_topics() const { return park_unknown_topics_; }
  const std::vector<std::string>& handler_topics() const { return handler_topics_; }

  using Visitor = std::function<Status(std::size_t index, OutboxStore& store)>;
  // Calls visit(i, store of tenants()[i]) for every tenant; returns one Status per tenant, in
  // tenants() order (an open error is that tenant's Status). Messages are safe to print (see
  // TenantError).
  std::vector<Status> Visit(const Visitor& visit, int parallelism = kDefaultParallelism) const;

 private:
  TenantFleet() = default;

  std::unique_ptr<DiscoverySession> session_;  // --config only
  StoreOptions options_;
  std::vector<TenantLocation> tenants_;
  bool park_unknown_topics_ = false;
  std::vector<std::string> handler_topics_;
};

// "tenant 'id' (<redacted location>): <message>" with the location's password (and any raw
// connection string quoted in the message) redacted; for a --connection location (identifier =
// redacted connection string) "<redacted location>: <message>".
std::string TenantError(const TenantLocation& location, const Status& status);

// The message of TenantError alone (passwords redacted, the store's own "store '<id>': " prefix
// dropped), for output that names the tenant elsewhere (a table row).
std::string TenantMessage(const TenantLocation& location, const Status& status);

// "sqlite" or "postgresql", by the connection string's scheme.
std::string EngineOf(const TenantLocation& location);

}  // namespace outboxd

#endif  // OUTBOXD_CTL_TENANT_FLEET_H_
