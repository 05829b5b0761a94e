// ParseConfigObject: the first step of every built-in plugin's configuration: the host hands the
// instance's "config" as JSON text, which must be one JSON object. Header-only, shared by the
// built-in plugins (each is its own .so, so nothing here is exported or linked).
#ifndef OUTBOXD_PLUGINS_COMMON_CONFIG_OBJECT_H_
#define OUTBOXD_PLUGINS_COMMON_CONFIG_OBJECT_H_

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace outboxd_plugins {

// Throws std::invalid_argument("<plugin> config: not valid JSON: ..." / "... expected a JSON
// object"), which the SDK's C++ layer turns into OBX_STATUS_INVALID_ARGUMENT at create.
inline nlohmann::json ParseConfigObject(std::string_view config_json, const std::string& plugin) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(config_json.begin(), config_json.end());
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(plugin + " config: not valid JSON: " + e.what());
  }
  if (!root.is_object()) throw std::invalid_argument(plugin + " config: expected a JSON object");
  return root;
}

}  // namespace outboxd_plugins

#endif  // OUTBOXD_PLUGINS_COMMON_CONFIG_OBJECT_H_
