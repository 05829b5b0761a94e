// The `static` discovery plugin: a fixed list of tenant databases.
//
// Config, exactly one of:
//   {"databases": [{"identifier", "connection_string", "schema_name"?, "table_name"?}, ...]}
//   {"file": "/etc/outboxd/tenants.json"}   holding {"databases": [...]} or a bare array
// The file is read at create (a bad file fails create) and again on every discover, so edits show
// up at the next refresh; a file that became unreadable or invalid fails that discover, and the
// host keeps its current tenant set. Confined to the host's control thread (no shared state).
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/config_object.h"
#include "database_list.h"
#include "obx/cpp/plugin.hpp"

namespace outboxd::discovery_static {
namespace {

using nlohmann::json;

[[noreturn]] void Fail(const std::string& message) {
  throw std::invalid_argument("static config: " + message);
}

class StaticDiscovery : public obx::DiscoveryProvider {
 public:
  explicit StaticDiscovery(const obx::PluginContext& ctx) : host_(ctx.host) {
    const json root = outboxd_plugins::ParseConfigObject(ctx.config_json, "static");
    for (auto it = root.begin(); it != root.end(); ++it) {
      if (it.key() != "databases" && it.key() != "file") {
        Fail("unknown key \"" + it.key() + "\" (expected databases or file)");
      }
    }
    const bool has_list = root.contains("databases");
    const bool has_file = root.contains("file");
    if (has_list == has_file)
      Fail("give exactly one of \"databases\" (a list) or \"file\" (a path)");
    if (has_list) {
      try {
        databases_ = ParseDatabaseList(root["databases"], "\"databases\"");
      } catch (const std::invalid_argument& e) {
        Fail(e.what());
      }
      return;
    }
    if (!root["file"].is_string() || root["file"].get<std::string>().empty()) {
      Fail("\"file\" must be a non-empty path string");
    }
    file_ = root["file"].get<std::string>();
    try {
      ReadFile();  // fail fast on a missing or invalid file
    } catch (const std::exception& e) {
      Fail(e.what());
    }
  }

  std::vector<obx::Database> Discover() override {
    if (file_.empty()) return databases_;
    std::vector<obx::Database> dbs = ReadFile();
    host_.Debug("static: " + std::to_string(dbs.size()) + " database(s) in " + file_);
    return dbs;
  }

 private:
  std::vector<obx::Database> ReadFile() const {
    const std::string where = "\"file\" " + file_;
    std::ifstream in(file_, std::ios::binary);
    if (!in) throw std::runtime_error(where + ": cannot open for reading");
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw std::runtime_error(where + ": read error");
    return ParseDatabaseDocument(text.str(), where);
  }

  const obx::Host& host_;
  std::vector<obx::Database> databases_;  // inline list
  std::string file_;                      // or: file re-read on every discover
};

}  // namespace
}  // namespace outboxd::discovery_static

OBX_DEFINE_PLUGIN("static", OBX_PLUGIN_VERSION,
                  "Fixed list of tenant databases, inline or from a JSON file re-read on refresh",
                  void, ::outboxd::discovery_static::StaticDiscovery, nullptr)
