#include "config/config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>
#include <utility>

#include "common/duration.h"
#include "common/listen_address.h"
#include "config/json_object_reader.h"
#include "config/json_text.h"

#ifndef OBX_DEFAULT_PLUGIN_DIR
#define OBX_DEFAULT_PLUGIN_DIR "/usr/local/lib/outboxd/plugins"  // CMake's default prefix and libdir
#endif

namespace outboxd {

const char kDefaultPluginDir[] = OBX_DEFAULT_PLUGIN_DIR;

namespace {

using std::chrono::milliseconds;
using Presence = JsonObjectReader::Presence;

constexpr milliseconds kMinRefreshInterval{100};
constexpr milliseconds kMinPollInterval{1};
constexpr milliseconds kMinLease{100};
constexpr milliseconds kMinHandlerTimeout{100};
constexpr milliseconds kMinCleanupInterval{1000};
constexpr milliseconds kMinNotifySafetyInterval{1000};
constexpr milliseconds kZero{0};

// Finds `key` in `parent` and checks that it is an object. *found = false when absent.
Status FindObject(const JsonObjectReader& parent, std::string_view key, Presence presence,
                  const nlohmann::json** found) {
  *found = parent.Find(key);
  if (*found == nullptr) {
    return presence == Presence::kRequired ? parent.Error(key, "required") : Status::OK();
  }
  if (!(*found)->is_object()) {
    return parent.Error(key, "expected an object, got " + JsonObjectReader::Describe(**found));
  }
  return Status::OK();
}

Status ParseDiscovery(const JsonObjectReader& root, DiscoveryConfig* out) {
  const nlohmann::json* object = nullptr;
  OBX_RETURN_IF_ERROR(FindObject(root, "discovery", Presence::kRequired, &object));
  JsonObjectReader r(*object, root.PathOf("discovery"));
  OBX_RETURN_IF_ERROR(
      r.CheckKnownKeys({"plugin", "config", "refresh_interval", "allow_empty", "cache_ttl"}));
  OBX_RETURN_IF_ERROR(r.ReadString("plugin", Presence::kRequired, &out->plugin));
  OBX_RETURN_IF_ERROR(r.ReadObjectText("config", &out->config_json));
  OBX_RETURN_IF_ERROR(
      r.ReadDuration("refresh_interval", kMinRefreshInterval, &out->refresh_interval));
  OBX_RETURN_IF_ERROR(r.ReadBool("allow_empty", &out->allow_empty));
  return r.ReadDuration("cache_ttl", kZero, &out->cache_ttl);
}

Status ParseDispatch(const JsonObjectReader& root, DispatchConfig* out) {
  const nlohmann::json* object = nullptr;
  OBX_RETURN_IF_ERROR(FindObject(root, "dispatch", Presence::kOptional, &object));
  if (object == nullptr) return Status::OK();
  JsonObjectReader r(*object, root.PathOf("dispatch"));
  OBX_RETURN_IF_ERROR(
      r.CheckKnownKeys({"strategy", "batch_size", "poll_interval", "max_poll_interval", "lease",
                        "handler_timeout", "max_attempts", "workers", "shutdown_grace",
                        "unknown_topic", "max_payload_bytes"}));
  OBX_RETURN_IF_ERROR(
      r.ReadChoice("strategy", {kStrategyFair, kStrategyRoundRobin, kStrategyDrainFirst},
                   &out->strategy));
  OBX_RETURN_IF_ERROR(r.ReadInt("batch_size", 1, 10000, &out->batch_size));
  OBX_RETURN_IF_ERROR(r.ReadDuration("poll_interval", kMinPollInterval, &out->poll_interval));
  if (r.Find("max_poll_interval") == nullptr) {
    out->max_poll_interval = std::max(out->max_poll_interval, out->poll_interval);
  } else {
    OBX_RETURN_IF_ERROR(
        r.ReadDuration("max_poll_interval", kMinPollInterval, &out->max_poll_interval));
    if (out->max_poll_interval < out->poll_interval) {
      return r.Error("max_poll_interval", "must be at least " + r.PathOf("poll_interval") + " (" +
                                              FormatDuration(out->poll_interval) + "), got " +
                                              FormatDuration(out->max_poll_interval));
    }
  }
  OBX_RETURN_IF_ERROR(r.ReadDuration("lease", kMinLease, &out->lease));
  out->handler_timeout = out->lease;
  OBX_RETURN_IF_ERROR(r.ReadDuration("handler_timeout", kMinHandlerTimeout, &out->handler_timeout));
  OBX_RETURN_IF_ERROR(r.ReadInt("max_attempts", 1, 1000, &out->max_attempts));
  OBX_RETURN_IF_ERROR(r.ReadInt("workers", 1, 256, &out->workers));
  OBX_RETURN_IF_ERROR(
      r.ReadInt("max_payload_bytes", 1024, 1024 * 1024 * 1024, &out->max_payload_bytes));
  OBX_RETURN_IF_ERROR(
      r.ReadChoice("unknown_topic", {kUnknownTopicFail, kUnknownTopicPark}, &out->unknown_topic));
  return r.ReadDuration("shutdown_grace", kZero, &out->shutdown_grace);
}

Status ParseStores(const JsonObjectReader& root, StoresConfig* out) {
  const nlohmann::json* object = nullptr;
  OBX_RETURN_IF_ERROR(FindObject(root, "stores", Presence::kOptional, &object));
  if (object == nullptr) return Status::OK();
  JsonObjectReader r(*object, root.PathOf("stores"));
  OBX_RETURN_IF_ERROR(r.CheckKnownKeys(
      {"busy_timeout", "max_connections_per_store", "max_connections", "notify",
       "notify_safety_interval", "retention", "cleanup_interval"}));
  OBX_RETURN_IF_ERROR(r.ReadDuration("busy_timeout", kZero, &out->busy_timeout));
  OBX_RETURN_IF_ERROR(
      r.ReadInt("max_connections_per_store", 1, 64, &out->max_connections_per_store));
  OBX_RETURN_IF_ERROR(r.ReadInt("max_connections", 0, 100000, &out->max_connections));
  OBX_RETURN_IF_ERROR(r.ReadBool("notify", &out->notify));
  OBX_RETURN_IF_ERROR(r.ReadDuration("notify_safety_interval", kMinNotifySafetyInterval,
                                     &out->notify_safety_interval));
  OBX_RETURN_IF_ERROR(r.ReadDuration("retention", kZero, &out->retention));
  return r.ReadDuration("cleanup_interval", kMinCleanupInterval, &out->cleanup_interval);
}

Status ParseHandler(const nlohmann::json& object, const std::string& path, HandlerConfig* out) {
  JsonObjectReader r(object, path);
  OBX_RETURN_IF_ERROR(r.CheckKnownKeys({"plugin", "topics", "config"}));
  OBX_RETURN_IF_ERROR(r.ReadString("plugin", Presence::kRequired, &out->plugin));
  OBX_RETURN_IF_ERROR(r.ReadStringList("topics", &out->topics));
  return r.ReadObjectText("config", &out->config_json);
}

Status ParseHandlers(const JsonObjectReader& root, std::vector<HandlerConfig>* out) {
  const nlohmann::json* array = root.Find("handlers");
  if (array == nullptr) return Status::OK();
  if (!array->is_array()) {
    return root.Error("handlers", "expected an array, got " + JsonObjectReader::Describe(*array));
  }
  std::vector<HandlerConfig> handlers(array->size());
  for (size_t i = 0; i < array->size(); ++i) {
    std::string path = root.PathOf("handlers") + "[" + std::to_string(i) + "]";
    const nlohmann::json& item = (*array)[i];
    if (!item.is_object()) {
      return Status::InvalidArgument(path + ": expected an object, got " +
                                     JsonObjectReader::Describe(item));
    }
    OBX_RETURN_IF_ERROR(ParseHandler(item, path, &handlers[i]));
  }
  *out = std::move(handlers);
  return Status::OK();
}

// "plugin_sha256_allowlist": 64 hex digits each (either case; kept lower-case), no duplicates.
Status ParseAllowlist(const JsonObjectReader& root, std::vector<std::string>* out) {
  const nlohmann::json* value = root.Find("plugin_sha256_allowlist");
  if (value != nullptr && value->is_array() && value->empty()) {
    return root.Error("plugin_sha256_allowlist",
                      "must not be empty (leave the key out to allow any plugin file)");
  }
  std::vector<std::string> digests;
  OBX_RETURN_IF_ERROR(root.ReadStringList("plugin_sha256_allowlist", &digests));
  for (std::string& digest : digests) {
    const bool hex = std::all_of(digest.begin(), digest.end(),
                                 [](unsigned char c) { return std::isxdigit(c) != 0; });
    if (digest.size() != 64 || !hex) {
      return root.Error("plugin_sha256_allowlist",
                        "expected SHA-256 digests of 64 hex digits, got \"" + digest + "\"");
    }
    std::transform(digest.begin(), digest.end(), digest.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  *out = std::move(digests);
  return Status::OK();
}

Status ParseHttp(const JsonObjectReader& root, HttpConfig* out) {
  const nlohmann::json* object = nullptr;
  OBX_RETURN_IF_ERROR(FindObject(root, "http", Presence::kOptional, &object));
  if (object == nullptr) return Status::OK();
  JsonObjectReader r(*object, root.PathOf("http"));
  OBX_RETURN_IF_ERROR(r.CheckKnownKeys({"listen", "max_tenant_series", "backlog_interval"}));
  OBX_RETURN_IF_ERROR(r.ReadString("listen", Presence::kOptional, &out->listen));
  if (r.Find("listen") != nullptr) {
    std::string host;
    int port = 0;
    Status s = ParseListenAddress(out->listen, &host, &port);
    if (!s.ok()) return r.Error("listen", s.message());
  }
  OBX_RETURN_IF_ERROR(r.ReadInt("max_tenant_series", 0, 1000000, &out->max_tenant_series));
  return r.ReadDuration("backlog_interval", std::chrono::seconds(1), &out->backlog_interval);
}

Status ParseRoot(const nlohmann::json& json, OutboxdConfig* out) {
  if (!json.is_object()) {
    return Status::InvalidArgument("expected a JSON object at the top level, got " +
                                   JsonObjectReader::Describe(json));
  }
  JsonObjectReader r(json, "");
  OBX_RETURN_IF_ERROR(r.CheckKnownKeys({"plugin_dir", "staging_dir", "worker_id", "log_level",
                                        "log_format", "allow_insecure_plugin_dir",
                                        "plugin_sha256_allowlist", "discovery", "dispatch",
                                        "stores", "http", "handlers"}));
  OBX_RETURN_IF_ERROR(r.ReadPath("plugin_dir", &out->plugin_dir));
  OBX_RETURN_IF_ERROR(r.ReadPath("staging_dir", &out->staging_dir));
  OBX_RETURN_IF_ERROR(r.ReadString("worker_id", Presence::kOptional, &out->worker_id));
  OBX_RETURN_IF_ERROR(
      r.ReadChoice("log_level", {"trace", "debug", "info", "warn", "error"}, &out->log_level));
  OBX_RETURN_IF_ERROR(r.ReadChoice("log_format", {"text", "json"}, &out->log_format));
  OBX_RETURN_IF_ERROR(r.ReadBool("allow_insecure_plugin_dir", &out->allow_insecure_plugin_dir));
  OBX_RETURN_IF_ERROR(ParseAllowlist(r, &out->plugin_sha256_allowlist));
  OBX_RETURN_IF_ERROR(ParseDiscovery(r, &out->discovery));
  OBX_RETURN_IF_ERROR(ParseDispatch(r, &out->dispatch));
  out->stores.max_connections = -1;  // "not given" until ParseStores reads it
  OBX_RETURN_IF_ERROR(ParseStores(r, &out->stores));
  OBX_RETURN_IF_ERROR(ParseHttp(r, &out->http));
  // Each worker may hold one connection, and the lease heartbeat one more.
  const int needed = out->dispatch.workers + 1;
  if (out->stores.max_connections < 0) {
    out->stores.max_connections = std::max(64, out->dispatch.workers + 2);
  } else if (out->stores.max_connections != 0 && out->stores.max_connections < needed) {
    return Status::InvalidArgument(
        "stores.max_connections: must be 0 (no cap) or at least dispatch.workers + 1 (" +
        std::to_string(needed) + "), got " + std::to_string(out->stores.max_connections));
  }
  return ParseHandlers(r, &out->handlers);
}

// `path` made absolute against `base` when relative; unchanged when empty or absolute.
std::string ResolveAgainst(const std::filesystem::path& base, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (base / path).lexically_normal().string();
}

std::string Join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

}  // namespace

Status ParseConfig(std::string_view json_text, OutboxdConfig* out) {
  nlohmann::json json;
  OBX_RETURN_IF_ERROR(ParseJsonText(json_text, &json));
  OutboxdConfig config;
  OBX_RETURN_IF_ERROR(ParseRoot(json, &config));
  *out = std::move(config);
  return Status::OK();
}

Status LoadConfigFile(const std::filesystem::path& path, OutboxdConfig* out) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status::NotFound(path.string() + ": no such configuration file");
  }
  if (std::filesystem::is_directory(path, ec)) {
    return Status::IoError(path.string() + ": is a directory, expected a JSON file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    return Status::IoError(path.string() + ": cannot open: " + std::strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IoError(path.string() + ": cannot read the file");

  OutboxdConfig config;
  OBX_RETURN_IF_ERROR(ParseConfig(text.str(), &config).WithContext(path.string()));
  std::filesystem::path base = std::filesystem::absolute(path, ec).parent_path();
  if (ec) return Status::IoError(path.string() + ": cannot resolve its folder: " + ec.message());
  config.plugin_dir = ResolveAgainst(base, config.plugin_dir);
  config.staging_dir = ResolveAgainst(base, config.staging_dir);
  *out = std::move(config);
  return Status::OK();
}

std::string DescribeConfig(const OutboxdConfig& config) {
  const DiscoveryConfig& d = config.discovery;
  const DispatchConfig& p = config.dispatch;
  const StoresConfig& s = config.stores;
  std::ostringstream out;
  out << "plugin_dir=" << config.plugin_dir
      << " staging_dir=" << (config.staging_dir.empty() ? "<default>" : config.staging_dir)
      << " worker_id=" << (config.worker_id.empty() ? "<host:pid>" : config.worker_id)
      << " log_level=" << config.log_level << " log_format=" << config.log_format
      << " allow_insecure_plugin_dir=" << (config.allow_insecure_plugin_dir ? "true" : "false")
      << " plugin_sha256_allowlist=" << config.plugin_sha256_allowlist.size() << " digests";
  out << " discovery={plugin=" << d.plugin
      << " refresh_interval=" << FormatDuration(d.refresh_interval)
      << " allow_empty=" << (d.allow_empty ? "true" : "false")
      << " cache_ttl=" << FormatDuration(d.cache_ttl) << "}";
  out << " dispatch={strategy=" << p.strategy << " batch_size=" << p.batch_size
      << " poll_interval=" << FormatDuration(p.poll_interval)
      << " max_poll_interval=" << FormatDuration(p.max_poll_interval)
      << " lease=" << FormatDuration(p.lease)
      << " handler_timeout=" << FormatDuration(p.handler_timeout)
      << " max_attempts=" << p.max_attempts
      << " workers=" << p.workers << " shutdown_grace=" << FormatDuration(p.shutdown_grace)
      << " unknown_topic=" << p.unknown_topic << " max_payload_bytes=" << p.max_payload_bytes
      << "}";
  out << " stores={busy_timeout=" << FormatDuration(s.busy_timeout)
      << " max_connections_per_store=" << s.max_connections_per_store
      << " max_connections=" << s.max_connections << " notify=" << (s.notify ? "true" : "false")
      << " notify_safety_interval=" << FormatDuration(s.notify_safety_interval)
      << " retention=" << FormatDuration(s.retention)
      << " cleanup_interval=" << FormatDuration(s.cleanup_interval) << "}";
  out << " http={listen=" << (config.http.listen.empty() ? "<off>" : config.http.listen)
      << " max_tenant_series=" << config.http.max_tenant_series
      << " backlog_interval=" << FormatDuration(config.http.backlog_interval) << "}";
  out << " handlers=[";
  for (size_t i = 0; i < config.handlers.size(); ++i) {
    const HandlerConfig& h = config.handlers[i];
    out << (i > 0 ? ", " : "") << h.plugin
        << " topics=" << (h.topics.empty() ? "<declared>" : Join(h.topics, ","));
  }
  out << "]";
  return out.str();
}

}  // namespace outboxd
