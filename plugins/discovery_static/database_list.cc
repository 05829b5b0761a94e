// ParseDatabaseList / ParseDatabaseDocument: strict validation, one clear message per error.
#include "database_list.h"

#include <set>
#include <stdexcept>

namespace outboxd::discovery_static {
namespace {

using nlohmann::json;

[[noreturn]] void Fail(const std::string& message) { throw std::invalid_argument(message); }

std::string RequiredString(const json& entry, const char* key, const std::string& at) {
  auto it = entry.find(key);
  if (it == entry.end()) Fail(at + ": missing required key \"" + key + "\"");
  if (!it->is_string() || it->get<std::string>().empty()) {
    Fail(at + ".\"" + key + "\" must be a non-empty string");
  }
  return it->get<std::string>();
}

std::string OptionalString(const json& entry, const char* key, const std::string& at) {
  auto it = entry.find(key);
  if (it == entry.end() || it->is_null()) return std::string();
  if (!it->is_string()) Fail(at + ".\"" + key + "\" must be a string");
  return it->get<std::string>();
}

}  // namespace

std::vector<obx::Database> ParseDatabaseList(const json& list, const std::string& where) {
  if (!list.is_array()) Fail(where + " must be an array of database objects");
  std::vector<obx::Database> out;
  std::set<std::string> seen;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = where + "[" + std::to_string(i) + "]";
    const json& entry = list[i];
    if (!entry.is_object()) {
      Fail(at + " must be an object with \"identifier\" and \"connection_string\"");
    }
    for (auto it = entry.begin(); it != entry.end(); ++it) {
      const std::string& key = it.key();
      if (key != "identifier" && key != "connection_string" && key != "schema_name" &&
          key != "table_name") {
        Fail(at + ": unknown key \"" + key +
             "\" (expected identifier, connection_string, schema_name, table_name)");
      }
    }
    obx::Database db;
    db.identifier = RequiredString(entry, "identifier", at);
    db.connection_string = RequiredString(entry, "connection_string", at);
    db.schema_name = OptionalString(entry, "schema_name", at);
    db.table_name = OptionalString(entry, "table_name", at);
    if (!seen.insert(db.identifier).second) {
      Fail(at + ": duplicate identifier \"" + db.identifier + "\"");
    }
    out.push_back(std::move(db));
  }
  return out;
}

std::vector<obx::Database> ParseDatabaseDocument(const std::string& text,
                                                 const std::string& where) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    Fail(where + ": not valid JSON: " + e.what());
  }
  if (doc.is_array()) return ParseDatabaseList(doc, where);
  if (!doc.is_object()) Fail(where + ": expected {\"databases\": [...]} or an array");
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it.key() != "databases") {
      Fail(where + ": unknown key \"" + it.key() + "\" (expected databases)");
    }
  }
  auto it = doc.find("databases");
  if (it == doc.end()) Fail(where + ": missing required key \"databases\"");
  return ParseDatabaseList(*it, where + ": \"databases\"");
}

}  // namespace outboxd::discovery_static
