// ParseDatabaseList: a JSON array of database entries -> validated obx::Database records.
//
// Each entry is an object {"identifier": "...", "connection_string": "...", "schema_name"?: "...",
// "table_name"?: "..."}; identifier and connection_string are required non-empty strings, the
// optional ones strings (empty = host default), identifiers unique. Any error throws
// std::invalid_argument naming `where` and the entry index, for example
// `"databases"[2]: missing required key "identifier"`.
#ifndef OUTBOXD_PLUGINS_DISCOVERY_STATIC_DATABASE_LIST_H_
#define OUTBOXD_PLUGINS_DISCOVERY_STATIC_DATABASE_LIST_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "obx/cpp/plugin.hpp"

namespace outboxd::discovery_static {

std::vector<obx::Database> ParseDatabaseList(const nlohmann::json& list, const std::string& where);

// The databases held by a file's contents: either {"databases": [...]} or a bare array.
std::vector<obx::Database> ParseDatabaseDocument(const std::string& text, const std::string& where);

}  // namespace outboxd::discovery_static

#endif  // OUTBOXD_PLUGINS_DISCOVERY_STATIC_DATABASE_LIST_H_
