// Sample discovery plugin "global_db": the seed scenario's GlobalDatabaseOutboxDiscovery, written
// against the outboxd SDK alone (obx/cpp/plugin.hpp) plus SQLiteCpp and nlohmann_json.
//
// The global database holds one row per customer:
//   CREATE TABLE Customers (CustomerId NVARCHAR(100) PRIMARY KEY,
//                           CustomerName NVARCHAR(255) NOT NULL,
//                           ConnectionString NVARCHAR(1000) NOT NULL,
//                           IsActive BIT NOT NULL DEFAULT 1);
// Every discover (at start-up and every refresh interval) returns CustomerId / ConnectionString of
// the rows with IsActive = 1; the host adds stores for new customers and removes deactivated ones.
//
// Config: {"database": "/var/lib/app/global.db"} (required). The file is opened read-only on every
// discover, so a wrong path is an error rather than a new empty database.
//
// One deliberate difference from the seed: the seed's C# returned an empty list on error, which a
// host would read as "every customer is gone". Here an error throws; the SDK turns it into
// OBX_STATUS_ERROR and the host keeps its current tenant set until the next refresh.
// Confined to the host's control thread (create, discover and destroy never overlap).
#include <SQLiteCpp/SQLiteCpp.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "obx/cpp/plugin.hpp"

namespace global_db {
namespace {

constexpr char kActiveCustomers[] =
    "SELECT CustomerId, ConnectionString FROM Customers WHERE IsActive = 1 ORDER BY CustomerId";

class GlobalDatabaseDiscovery : public obx::DiscoveryProvider {
 public:
  explicit GlobalDatabaseDiscovery(const obx::PluginContext& ctx) : host_(ctx.host) {
    nlohmann::json config = nlohmann::json::parse(ctx.config_json.begin(), ctx.config_json.end(),
                                                  nullptr, /*allow_exceptions=*/false);
    if (!config.is_object())
      throw std::invalid_argument("global_db config: expected a JSON object");
    for (auto it = config.begin(); it != config.end(); ++it) {
      if (it.key() != "database") {
        throw std::invalid_argument("global_db config: unknown key \"" + it.key() +
                                    "\" (expected database)");
      }
    }
    auto db = config.find("database");
    if (db == config.end() || !db->is_string() || db->get<std::string>().empty()) {
      throw std::invalid_argument(
          "global_db config: \"database\" (path of the SQLite global database) is required");
    }
    path_ = db->get<std::string>();
  }

  std::vector<obx::Database> Discover() override {
    host_.Debug("global_db: querying " + path_ + " for active customer databases");
    try {
      SQLite::Database db(path_, SQLite::OPEN_READONLY);  // no OPEN_CREATE: missing file = error
      db.setBusyTimeout(5000);
      SQLite::Statement query(db, kActiveCustomers);
      std::vector<obx::Database> out;
      while (query.executeStep()) {
        obx::Database d;
        d.identifier = query.getColumn(0).getString();
        d.connection_string = query.getColumn(1).getString();
        // schema_name / table_name left empty: the host's defaults ("infra", "outbox").
        out.push_back(std::move(d));
      }
      host_.Info("global_db: discovered " + std::to_string(out.size()) +
                 " active customer database(s)");
      return out;
    } catch (const SQLite::Exception& e) {
      throw std::runtime_error("global_db: cannot read customers from " + path_ + ": " + e.what());
    }
  }

 private:
  const obx::Host& host_;
  std::string path_;
};

}  // namespace
}  // namespace global_db

OBX_DEFINE_DISCOVERY_PLUGIN(::global_db::GlobalDatabaseDiscovery, "global_db", "1.0.0")
