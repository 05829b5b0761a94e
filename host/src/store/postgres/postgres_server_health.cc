#include "store/postgres/postgres_server_health.h"

namespace outboxd::sql_store {

PostgresServerHealth& PostgresServerHealth::Instance() {
  static PostgresServerHealth health;
  return health;
}

void PostgresServerHealth::Failed(const std::string& server) {
  std::lock_guard<std::mutex> lock(mu_);
  suspect_.insert(server);
}

void PostgresServerHealth::Succeeded(const std::string& server) {
  std::lock_guard<std::mutex> lock(mu_);
  suspect_.erase(server);
}

bool PostgresServerHealth::Suspect(const std::string& server) const {
  std::lock_guard<std::mutex> lock(mu_);
  return suspect_.count(server) != 0;
}

}  // namespace outboxd::sql_store
