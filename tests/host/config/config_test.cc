#include "config/config.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "support/hostile_connections.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The smallest valid configuration; tests add to or change it.
json Minimal() {
  return json{{"plugin_dir", "/opt/outboxd/plugins"}, {"discovery", {{"plugin", "static"}}}};
}

OutboxdConfig ParseOk(const json& config) {
  OutboxdConfig out;
  Status status = ParseConfig(config.dump(), &out);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << config.dump(2);
  return out;
}

// The error message for `text`, which must be rejected.
std::string ErrorOfText(const std::string& text) {
  OutboxdConfig out;
  out.worker_id = "untouched";
  Status status = ParseConfig(text, &out);
  EXPECT_FALSE(status.ok()) << text;
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << status.ToString();
  EXPECT_EQ(out.worker_id, "untouched") << "output written on error";
  return status.message();
}

std::string ErrorOf(const json& config) { return ErrorOfText(config.dump()); }

// Minimal() with config[section][key] = value ("" section: top level).
json With(const std::string& section, const std::string& key, const json& value) {
  json config = Minimal();
  if (section.empty()) {
    config[key] = value;
  } else {
    config[section][key] = value;
  }
  return config;
}

// ---------------------------------------------------------------------------------------------
// Defaults

TEST(ConfigDefaultsTest, StructDefaults) {
  OutboxdConfig c;
  EXPECT_EQ(c.plugin_dir, kDefaultPluginDir);
  EXPECT_EQ(c.staging_dir, "");
  EXPECT_EQ(c.worker_id, "");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.discovery.plugin, "");
  EXPECT_EQ(c.discovery.config_json, "{}");
  EXPECT_EQ(c.discovery.refresh_interval, std::chrono::minutes(5));
  EXPECT_FALSE(c.discovery.allow_empty);
  EXPECT_EQ(c.discovery.cache_ttl, milliseconds(0));
  EXPECT_EQ(c.dispatch.strategy, "fair");
  EXPECT_EQ(c.dispatch.unknown_topic, "fail");
  EXPECT_EQ(c.dispatch.batch_size, 50);
  EXPECT_EQ(c.dispatch.poll_interval, milliseconds(250));
  EXPECT_EQ(c.dispatch.max_poll_interval, seconds(2));
  EXPECT_EQ(c.dispatch.lease, seconds(30));
  EXPECT_EQ(c.dispatch.max_attempts, 5);
  EXPECT_EQ(c.dispatch.workers, 4);
  EXPECT_EQ(c.dispatch.shutdown_grace, seconds(30));
  EXPECT_EQ(c.stores.busy_timeout, seconds(5));
  EXPECT_EQ(c.stores.max_connections_per_store, 2);
  EXPECT_EQ(c.stores.retention, std::chrono::hours(24 * 7));
  EXPECT_EQ(c.stores.cleanup_interval, std::chrono::hours(1));
  EXPECT_EQ(c.stores.notify_safety_interval, seconds(60));
  EXPECT_TRUE(c.handlers.empty());
}

TEST(ConfigDefaultsTest, MinimalFileGetsEveryDefault) {
  OutboxdConfig c = ParseOk(Minimal());
  OutboxdConfig d;
  EXPECT_EQ(c.plugin_dir, "/opt/outboxd/plugins");
  EXPECT_EQ(c.staging_dir, d.staging_dir);
  EXPECT_EQ(c.worker_id, d.worker_id);
  EXPECT_EQ(c.log_level, d.log_level);
  EXPECT_EQ(c.discovery.plugin, "static");
  EXPECT_EQ(c.discovery.config_json, "{}");
  EXPECT_EQ(c.discovery.refresh_interval, d.discovery.refresh_interval);
  EXPECT_EQ(c.discovery.allow_empty, d.discovery.allow_empty);
  EXPECT_EQ(c.discovery.cache_ttl, d.discovery.cache_ttl);
  EXPECT_EQ(c.dispatch.strategy, d.dispatch.strategy);
  EXPECT_EQ(c.dispatch.batch_size, d.dispatch.batch_size);
  EXPECT_EQ(c.dispatch.poll_interval, d.dispatch.poll_interval);
  EXPECT_EQ(c.dispatch.max_poll_interval, d.dispatch.max_poll_interval);
  EXPECT_EQ(c.dispatch.lease, d.dispatch.lease);
  EXPECT_EQ(c.dispatch.max_attempts, d.dispatch.max_attempts);
  EXPECT_EQ(c.dispatch.workers, d.dispatch.workers);
  EXPECT_EQ(c.dispatch.shutdown_grace, d.dispatch.shutdown_grace);
  EXPECT_EQ(c.stores.busy_timeout, d.stores.busy_timeout);
  EXPECT_EQ(c.stores.max_connections_per_store, d.stores.max_connections_per_store);
  EXPECT_EQ(c.stores.retention, d.stores.retention);
  EXPECT_EQ(c.stores.cleanup_interval, d.stores.cleanup_interval);
  EXPECT_EQ(c.stores.notify_safety_interval, d.stores.notify_safety_interval);
  EXPECT_TRUE(c.handlers.empty());
}

TEST(ConfigDefaultsTest, EmptySectionsKeepDefaults) {
  json config = Minimal();
  config["dispatch"] = json::object();
  config["stores"] = json::object();
  config["handlers"] = json::array();
  OutboxdConfig c = ParseOk(config);
  EXPECT_EQ(c.dispatch.batch_size, 50);
  EXPECT_EQ(c.stores.max_connections_per_store, 2);
  EXPECT_TRUE(c.handlers.empty());
}

TEST(ConfigDefaultsTest, HandlerDefaults) {
  json config = Minimal();
  config["handlers"] = json::array({{{"plugin", "webhook"}}});
  OutboxdConfig c = ParseOk(config);
  ASSERT_EQ(c.handlers.size(), 1u);
  EXPECT_EQ(c.handlers[0].plugin, "webhook");
  EXPECT_TRUE(c.handlers[0].topics.empty());
  EXPECT_EQ(c.handlers[0].config_json, "{}");
}

// ---------------------------------------------------------------------------------------------
// Every key, set

TEST(ConfigParseTest, EveryKeySet) {
  json config = json::parse(R"({
    "plugin_dir": "/p", "staging_dir": "/s", "worker_id": "w-1", "log_level": "debug",
    "discovery": {"plugin": "pg", "config": {"dsn": "postgresql://u:secret@h/db", "n": [1, 2]},
                  "refresh_interval": "1m30s", "allow_empty": true, "cache_ttl": "2m"},
    "dispatch": {"strategy": "drain-first", "batch_size": 10000, "poll_interval": "1ms",
                 "max_poll_interval": "10s", "lease": "100ms", "max_attempts": 1000,
                 "workers": 256, "shutdown_grace": "0s"},
    "stores": {"busy_timeout": "0s", "max_connections_per_store": 64, "retention": "30d",
               "cleanup_interval": "1s"},
    "handlers": [
      {"plugin": "webhook", "topics": ["orders.created", "orders.paid"], "config": {"url": "x"}},
      {"plugin": "audit"}
    ]
  })");
  OutboxdConfig c = ParseOk(config);
  EXPECT_EQ(c.plugin_dir, "/p");
  EXPECT_EQ(c.staging_dir, "/s");
  EXPECT_EQ(c.worker_id, "w-1");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.discovery.plugin, "pg");
  EXPECT_EQ(json::parse(c.discovery.config_json), config["discovery"]["config"]);
  EXPECT_EQ(c.discovery.refresh_interval, seconds(90));
  EXPECT_TRUE(c.discovery.allow_empty);
  EXPECT_EQ(c.discovery.cache_ttl, std::chrono::minutes(2));
  EXPECT_EQ(c.dispatch.strategy, kStrategyDrainFirst);
  EXPECT_EQ(c.dispatch.batch_size, 10000);
  EXPECT_EQ(c.dispatch.poll_interval, milliseconds(1));
  EXPECT_EQ(c.dispatch.max_poll_interval, seconds(10));
  EXPECT_EQ(c.dispatch.lease, milliseconds(100));
  EXPECT_EQ(c.dispatch.max_attempts, 1000);
  EXPECT_EQ(c.dispatch.workers, 256);
  EXPECT_EQ(c.dispatch.shutdown_grace, milliseconds(0));
  EXPECT_EQ(c.stores.busy_timeout, milliseconds(0));
  EXPECT_EQ(c.stores.max_connections_per_store, 64);
  EXPECT_EQ(c.stores.retention, std::chrono::hours(24 * 30));
  EXPECT_EQ(c.stores.cleanup_interval, seconds(1));
  ASSERT_EQ(c.handlers.size(), 2u);
  EXPECT_EQ(c.handlers[0].plugin, "webhook");
  EXPECT_EQ(c.handlers[0].topics, (std::vector<std::string>{"orders.created", "orders.paid"}));
  EXPECT_EQ(json::parse(c.handlers[0].config_json), json({{"url", "x"}}));
  EXPECT_EQ(c.handlers[1].plugin, "audit");
  EXPECT_TRUE(c.handlers[1].topics.empty());
}

TEST(ConfigParseTest, EveryLogLevel) {
  for (const char* level : {"trace", "debug", "info", "warn", "error"}) {
    EXPECT_EQ(ParseOk(With("", "log_level", level)).log_level, level);
  }
}

TEST(ConfigParseTest, EveryStrategy) {
  EXPECT_EQ(ParseOk(With("dispatch", "strategy", "fair")).dispatch.strategy, kStrategyFair);
  EXPECT_EQ(ParseOk(With("dispatch", "strategy", "round-robin")).dispatch.strategy,
            kStrategyRoundRobin);
  EXPECT_EQ(ParseOk(With("dispatch", "strategy", "drain-first")).dispatch.strategy,
            kStrategyDrainFirst);
}

// Issue 14 finding 19: the payload cap, 16 MiB by default, 1 KiB..1 GiB.
TEST(ConfigParseTest, MaxPayloadBytes) {
  EXPECT_EQ(ParseOk(Minimal()).dispatch.max_payload_bytes, 16 * 1024 * 1024);
  EXPECT_EQ(ParseOk(With("dispatch", "max_payload_bytes", 1024)).dispatch.max_payload_bytes, 1024);
  EXPECT_EQ(ParseOk(With("dispatch", "max_payload_bytes", 1073741824)).dispatch.max_payload_bytes,
            1073741824);
  EXPECT_EQ(ErrorOf(With("dispatch", "max_payload_bytes", 1023)),
            "dispatch.max_payload_bytes: expected an integer from 1024 to 1073741824, got 1023");
  EXPECT_EQ(ErrorOf(With("dispatch", "max_payload_bytes", 1073741825)),
            "dispatch.max_payload_bytes: expected an integer from 1024 to 1073741824, got "
            "1073741825");
  EXPECT_NE(DescribeConfig(ParseOk(Minimal())).find("max_payload_bytes=16777216"),
            std::string::npos);
}

TEST(ConfigParseTest, IntegerBoundsAreInclusive) {
  EXPECT_EQ(ParseOk(With("dispatch", "batch_size", 1)).dispatch.batch_size, 1);
  EXPECT_EQ(ParseOk(With("dispatch", "max_attempts", 1)).dispatch.max_attempts, 1);
  EXPECT_EQ(ParseOk(With("dispatch", "workers", 1)).dispatch.workers, 1);
  EXPECT_EQ(
      ParseOk(With("stores", "max_connections_per_store", 1)).stores.max_connections_per_store, 1);
}

TEST(ConfigParseTest, DurationMinimumsAreInclusive) {
  EXPECT_EQ(ParseOk(With("discovery", "refresh_interval", "100ms")).discovery.refresh_interval,
            milliseconds(100));
  EXPECT_EQ(ParseOk(With("discovery", "cache_ttl", "0s")).discovery.cache_ttl, milliseconds(0));
  EXPECT_EQ(ParseOk(With("stores", "retention", "0")).stores.retention, milliseconds(0));
}

TEST(ConfigParseTest, MaxPollIntervalDefaultFollowsALargerPollInterval) {
  OutboxdConfig c = ParseOk(With("dispatch", "poll_interval", "5s"));
  EXPECT_EQ(c.dispatch.poll_interval, seconds(5));
  EXPECT_EQ(c.dispatch.max_poll_interval, seconds(5));
  c = ParseOk(With("dispatch", "poll_interval", "1s"));
  EXPECT_EQ(c.dispatch.max_poll_interval, seconds(2));
}

TEST(ConfigParseTest, MaxPollIntervalMayEqualPollInterval) {
  json config = With("dispatch", "poll_interval", "500ms");
  config["dispatch"]["max_poll_interval"] = "500ms";
  EXPECT_EQ(ParseOk(config).dispatch.max_poll_interval, milliseconds(500));
}

TEST(ConfigParseTest, PluginConfigIsKeptAsCompactJsonText) {
  json config = Minimal();
  config["discovery"]["config"] = json::parse(R"({"b": {"c": [1, "two", null]}, "a": true})");
  OutboxdConfig c = ParseOk(config);
  EXPECT_EQ(json::parse(c.discovery.config_json), config["discovery"]["config"]);
  EXPECT_EQ(c.discovery.config_json.find('\n'), std::string::npos);
}

TEST(ConfigParseTest, WhitespaceAndUnicodeAreFine) {
  OutboxdConfig out;
  Status status = ParseConfig(
      "\n\n  {\"plugin_dir\" : \"/plügins\",\t\"discovery\":{\"plugin\":\"st\\u00e4tic\"}}\n",
      &out);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(out.plugin_dir, "/plügins");
  EXPECT_EQ(out.discovery.plugin, "st\xc3\xa4tic");
}

// ---------------------------------------------------------------------------------------------
// Required keys

TEST(ConfigDefaultsTest, PluginDirLeftOutIsTheInstalledPluginFolder) {
  // The compiled-in default is where `cmake --install` and the .deb put the built-in plugins.
  const std::filesystem::path dir = kDefaultPluginDir;
  EXPECT_TRUE(dir.is_absolute()) << dir;
  EXPECT_EQ(dir.filename(), "plugins") << dir;
  EXPECT_EQ(dir.parent_path().filename(), "outboxd") << dir;
#ifdef OBX_TEST_INSTALL_FULL_LIBDIR
  EXPECT_EQ(dir, std::filesystem::path(OBX_TEST_INSTALL_FULL_LIBDIR) / "outboxd" / "plugins");
#endif

  json config = Minimal();
  config.erase("plugin_dir");
  EXPECT_EQ(ParseOk(config).plugin_dir, kDefaultPluginDir);

  testing::TempDir files;
  OutboxdConfig loaded;
  ASSERT_TRUE(LoadConfigFile(files.WriteFile("outboxd.json", config.dump()), &loaded).ok());
  EXPECT_EQ(loaded.plugin_dir, kDefaultPluginDir);  // absolute: not resolved against the file
}

TEST(ConfigRequiredTest, PluginDirMayBeLeftOutButNotEmpty) {
  EXPECT_EQ(ErrorOf(With("", "plugin_dir", "")),
            "plugin_dir: must not be empty (leave the key out for the default)");
}

TEST(ConfigRequiredTest, Discovery) {
  json config = Minimal();
  config.erase("discovery");
  EXPECT_EQ(ErrorOf(config), "discovery: required");
}

TEST(ConfigRequiredTest, DiscoveryPlugin) {
  json config = Minimal();
  config["discovery"] = json::object();
  EXPECT_EQ(ErrorOf(config), "discovery.plugin: required");
  EXPECT_EQ(ErrorOf(With("discovery", "plugin", "")), "discovery.plugin: must not be empty");
}

TEST(ConfigRequiredTest, HandlerPlugin) {
  json config = Minimal();
  config["handlers"] = json::parse(R"([{"plugin": "a"}, {"topics": ["t"]}])");
  EXPECT_EQ(ErrorOf(config), "handlers[1].plugin: required");
}

// ---------------------------------------------------------------------------------------------
// Unknown keys, at every level

TEST(ConfigUnknownKeyTest, TopLevel) {
  EXPECT_EQ(ErrorOf(With("", "plugins_dir", "/x")),
            "plugins_dir: unknown key (known: plugin_dir, staging_dir, worker_id, log_level, "
            "log_format, allow_insecure_plugin_dir, plugin_sha256_allowlist, discovery, dispatch, "
            "stores, http, handlers)");
}

TEST(ConfigUnknownKeyTest, Discovery) {
  EXPECT_EQ(ErrorOf(With("discovery", "refrsh_interval", "5m")),
            "discovery.refrsh_interval: unknown key (known: plugin, config, refresh_interval, "
            "allow_empty, cache_ttl)");
}

TEST(ConfigUnknownKeyTest, Dispatch) {
  EXPECT_EQ(ErrorOf(With("dispatch", "batchsize", 5)),
            "dispatch.batchsize: unknown key (known: strategy, batch_size, poll_interval, "
            "max_poll_interval, lease, handler_timeout, max_attempts, workers, shutdown_grace, "
            "unknown_topic, max_payload_bytes)");
}

TEST(ConfigUnknownKeyTest, Stores) {
  EXPECT_EQ(ErrorOf(With("stores", "max_connection", 5)),
            "stores.max_connection: unknown key (known: busy_timeout, "
            "max_connections_per_store, max_connections, notify, notify_safety_interval, retention, "
            "cleanup_interval)");
}

TEST(ConfigStoresTest, MaxConnectionsDefaultCoversTheWorkers) {
  EXPECT_EQ(ParseOk(Minimal()).stores.max_connections, 64);
  json many = Minimal();
  many["dispatch"]["workers"] = 100;
  EXPECT_EQ(ParseOk(many).stores.max_connections, 102);
  EXPECT_FALSE(ParseOk(Minimal()).stores.notify);
}

TEST(ConfigStoresTest, MaxConnectionsAndNotifyAreRead) {
  json config = Minimal();
  config["stores"] = {{"max_connections", 5}, {"notify", true}};
  config["dispatch"]["workers"] = 4;
  OutboxdConfig c = ParseOk(config);
  EXPECT_EQ(c.stores.max_connections, 5);
  EXPECT_TRUE(c.stores.notify);
  EXPECT_EQ(ParseOk(With("stores", "max_connections", 0)).stores.max_connections, 0);  // no cap
}

TEST(ConfigStoresTest, MaxConnectionsBelowWorkersPlusOneIsRejected) {
  json config = Minimal();
  config["stores"]["max_connections"] = 4;
  config["dispatch"]["workers"] = 4;
  EXPECT_EQ(ErrorOf(config),
            "stores.max_connections: must be 0 (no cap) or at least dispatch.workers + 1 (5), "
            "got 4");
  EXPECT_EQ(ErrorOf(With("stores", "max_connections", -1)),
            "stores.max_connections: expected an integer from 0 to 100000, got -1");
  EXPECT_EQ(ErrorOf(With("stores", "notify", "yes")).rfind("stores.notify: ", 0), 0u);
}

TEST(ConfigStoresTest, NotifySafetyInterval) {
  EXPECT_EQ(ParseOk(With("stores", "notify_safety_interval", "5m")).stores.notify_safety_interval,
            std::chrono::minutes(5));
  EXPECT_EQ(ErrorOf(With("stores", "notify_safety_interval", "500ms"))
                .rfind("stores.notify_safety_interval: ", 0),
            0u);
}

TEST(ConfigUnknownKeyTest, Handler) {
  json config = Minimal();
  config["handlers"] = json::parse(R"([{"plugin": "a"}, {"plugin": "b", "topic": "x"}])");
  EXPECT_EQ(ErrorOf(config), "handlers[1].topic: unknown key (known: plugin, topics, config)");
}

TEST(ConfigUnknownKeyTest, ReportedBeforeBadValuesInTheSameObject) {
  json config = With("dispatch", "batch_size", "abc");
  config["dispatch"]["zzz"] = 1;
  EXPECT_EQ(ErrorOf(config).rfind("dispatch.zzz: unknown key", 0), 0u);
}

TEST(ConfigUnknownKeyTest, PluginConfigObjectsAcceptAnyKey) {
  json config = With("discovery", "config", {{"anything", {{"goes", 1}}}});
  config["handlers"] = json::parse(R"([{"plugin": "a", "config": {"whatever": []}}])");
  ParseOk(config);
}

// ---------------------------------------------------------------------------------------------
// Bad values and type errors

TEST(ConfigBadValueTest, IntegerGivenAsString) {
  EXPECT_EQ(ErrorOf(With("dispatch", "batch_size", "abc")),
            "dispatch.batch_size: expected an integer from 1 to 10000, got a string");
  EXPECT_EQ(ErrorOf(With("dispatch", "batch_size", "50")),
            "dispatch.batch_size: expected an integer from 1 to 10000, got a string");
}

TEST(ConfigBadValueTest, IntegerOutOfRange) {
  EXPECT_EQ(ErrorOf(With("dispatch", "batch_size", 0)),
            "dispatch.batch_size: expected an integer from 1 to 10000, got 0");
  EXPECT_EQ(ErrorOf(With("dispatch", "batch_size", 10001)),
            "dispatch.batch_size: expected an integer from 1 to 10000, got 10001");
  EXPECT_EQ(ErrorOf(With("dispatch", "batch_size", -5)),
            "dispatch.batch_size: expected an integer from 1 to 10000, got -5");
  EXPECT_EQ(ErrorOf(With("dispatch", "max_attempts", 0)),
            "dispatch.max_attempts: expected an integer from 1 to 1000, got 0");
  EXPECT_EQ(ErrorOf(With("dispatch", "max_attempts", 1001)),
            "dispatch.max_attempts: expected an integer from 1 to 1000, got 1001");
  EXPECT_EQ(ErrorOf(With("dispatch", "workers", 0)),
            "dispatch.workers: expected an integer from 1 to 256, got 0");
  EXPECT_EQ(ErrorOf(With("dispatch", "workers", 257)),
            "dispatch.workers: expected an integer from 1 to 256, got 257");
  EXPECT_EQ(ErrorOf(With("stores", "max_connections_per_store", 0)),
            "stores.max_connections_per_store: expected an integer from 1 to 64, got 0");
  EXPECT_EQ(ErrorOf(With("stores", "max_connections_per_store", 65)),
            "stores.max_connections_per_store: expected an integer from 1 to 64, got 65");
}

TEST(ConfigBadValueTest, IntegerHugeOrFractional) {
  EXPECT_EQ(ErrorOf(With("dispatch", "workers", 18446744073709551615ULL)),
            "dispatch.workers: expected an integer from 1 to 256, got 18446744073709551615");
  EXPECT_EQ(ErrorOfText(R"({"plugin_dir": "/p", "discovery": {"plugin": "s"},
                            "dispatch": {"workers": 1e100}})"),
            "dispatch.workers: expected an integer from 1 to 256, got 1e+100");
  EXPECT_EQ(ErrorOf(With("dispatch", "workers", 2.5)),
            "dispatch.workers: expected an integer from 1 to 256, got 2.5");
  EXPECT_EQ(ErrorOf(With("dispatch", "workers", 4.0)),
            "dispatch.workers: expected an integer from 1 to 256, got 4.0");
}

TEST(ConfigBadValueTest, IntegerGivenOtherTypes) {
  EXPECT_EQ(ErrorOf(With("dispatch", "workers", true)),
            "dispatch.workers: expected an integer from 1 to 256, got true");
  EXPECT_EQ(ErrorOf(With("dispatch", "workers", nullptr)),
            "dispatch.workers: expected an integer from 1 to 256, got null");
  EXPECT_EQ(ErrorOf(With("dispatch", "workers", json::array({4}))),
            "dispatch.workers: expected an integer from 1 to 256, got an array");
  EXPECT_EQ(ErrorOf(With("dispatch", "workers", json::object())),
            "dispatch.workers: expected an integer from 1 to 256, got an object");
}

TEST(ConfigBadValueTest, StringsGivenOtherTypes) {
  EXPECT_EQ(ErrorOf(With("", "plugin_dir", 5)), "plugin_dir: expected a string, got 5");
  EXPECT_EQ(ErrorOf(With("", "staging_dir", false)), "staging_dir: expected a string, got false");
  EXPECT_EQ(ErrorOf(With("", "worker_id", nullptr)), "worker_id: expected a string, got null");
  EXPECT_EQ(ErrorOf(With("discovery", "plugin", json::array({"a"}))),
            "discovery.plugin: expected a string, got an array");
}

TEST(ConfigBadValueTest, OptionalStringsMustNotBeEmpty) {
  EXPECT_EQ(ErrorOf(With("", "staging_dir", "")),
            "staging_dir: must not be empty (leave the key out for the default)");
  EXPECT_EQ(ErrorOf(With("", "worker_id", "")),
            "worker_id: must not be empty (leave the key out for the default)");
}

TEST(ConfigBadValueTest, LogLevel) {
  EXPECT_EQ(ErrorOf(With("", "log_level", "verbose")),
            "log_level: expected \"trace\", \"debug\", \"info\", \"warn\" or \"error\", "
            "got \"verbose\"");
  EXPECT_EQ(ErrorOf(With("", "log_level", "INFO")),
            "log_level: expected \"trace\", \"debug\", \"info\", \"warn\" or \"error\", "
            "got \"INFO\"");
  EXPECT_EQ(ErrorOf(With("", "log_level", 3)),
            "log_level: expected \"trace\", \"debug\", \"info\", \"warn\" or \"error\", got 3");
}

TEST(ConfigParseTest, UnknownTopicPolicy) {
  EXPECT_EQ(ParseOk(With("dispatch", "unknown_topic", "park")).dispatch.unknown_topic,
            kUnknownTopicPark);
  EXPECT_EQ(ParseOk(With("dispatch", "unknown_topic", "fail")).dispatch.unknown_topic,
            kUnknownTopicFail);
  EXPECT_EQ(ErrorOf(With("dispatch", "unknown_topic", "drop")),
            "dispatch.unknown_topic: expected \"fail\" or \"park\", got \"drop\"");
}

TEST(ConfigBadValueTest, Strategy) {
  EXPECT_EQ(ErrorOf(With("dispatch", "strategy", "round_robin")),
            "dispatch.strategy: expected \"fair\", \"round-robin\" or \"drain-first\", got "
            "\"round_robin\"");
}

TEST(ConfigBadValueTest, Booleans) {
  EXPECT_EQ(ErrorOf(With("discovery", "allow_empty", "true")),
            "discovery.allow_empty: expected true or false, got a string");
  EXPECT_EQ(ErrorOf(With("discovery", "allow_empty", 1)),
            "discovery.allow_empty: expected true or false, got 1");
}

TEST(ConfigBadValueTest, SectionsOfTheWrongType) {
  EXPECT_EQ(ErrorOf(With("", "discovery", "static")),
            "discovery: expected an object, got a string");
  EXPECT_EQ(ErrorOf(With("", "dispatch", json::array())),
            "dispatch: expected an object, got an array");
  EXPECT_EQ(ErrorOf(With("", "stores", nullptr)), "stores: expected an object, got null");
  EXPECT_EQ(ErrorOf(With("", "handlers", json::object())),
            "handlers: expected an array, got an object");
  EXPECT_EQ(ErrorOf(With("", "handlers", json::array({"webhook"}))),
            "handlers[0]: expected an object, got a string");
}

TEST(ConfigBadValueTest, PluginConfigMustBeAnObject) {
  EXPECT_EQ(ErrorOf(With("discovery", "config", "dsn=x")),
            "discovery.config: expected an object, got a string");
  EXPECT_EQ(ErrorOf(With("discovery", "config", nullptr)),
            "discovery.config: expected an object, got null");
  json config = Minimal();
  config["handlers"] = json::parse(R"([{"plugin": "a", "config": [1]}])");
  EXPECT_EQ(ErrorOf(config), "handlers[0].config: expected an object, got an array");
}

TEST(ConfigBadValueTest, Topics) {
  auto handler_error = [](const json& topics) {
    json config = Minimal();
    config["handlers"] = json::array({{{"plugin", "a"}, {"topics", topics}}});
    return ErrorOf(config);
  };
  EXPECT_EQ(handler_error("orders"),
            "handlers[0].topics: expected an array of strings, got a string");
  EXPECT_EQ(handler_error(json::array()),
            "handlers[0].topics: must not be empty (leave the key out to use the topics the "
            "plugin declares)");
  EXPECT_EQ(handler_error(json::array({"a", ""})),
            "handlers[0].topics[1]: expected a non-empty string, got \"\"");
  EXPECT_EQ(handler_error(json::array({"a", 7})),
            "handlers[0].topics[1]: expected a non-empty string, got 7");
  EXPECT_EQ(handler_error(json::array({"a", "b", "a"})), "handlers[0].topics[2]: duplicate \"a\"");
}

TEST(ConfigBadValueTest, LongValuesAreShortenedInMessages) {
  std::string message = ErrorOf(With("dispatch", "strategy", std::string(500, 'x')));
  EXPECT_LT(message.size(), 150u) << message;
  EXPECT_NE(message.find("..."), std::string::npos) << message;
}

// Issue 14 finding 6: a value of the wrong type may be a secret pasted under the wrong key (a
// whole connection string where an object belongs): the message names its type only. Strings of a
// known shape (choices, durations) are still quoted, redacted.
TEST(ConfigBadValueTest, WrongTypedStringsAreNeverEchoed) {
  for (const auto& c : outboxd::testing::HostileConnections()) {
    for (const auto& [section, key] : std::vector<std::pair<std::string, std::string>>{
             {"", "discovery"}, {"discovery", "config"}, {"dispatch", "batch_size"},
             {"discovery", "allow_empty"}, {"", "handlers"}, {"discovery", "refresh_interval"},
             {"dispatch", "strategy"}, {"", "log_level"}}) {
      const std::string message = ErrorOf(With(section, key, c.connection));
      EXPECT_FALSE(message.empty()) << section << "." << key;
      outboxd::testing::ExpectNoSecret(message, c, section + "." + key);
    }
  }
}

// A connection string pasted into a path key: every message shows a path after normalisation
// (".../postgresql:/u:pw@h"), which no redaction pattern recognises, so it is refused unshown.
TEST(ConfigBadValueTest, APasswordInAPathKeyIsRefusedUnshown) {
  for (const auto& c : outboxd::testing::HostileConnections()) {
    for (const char* key : {"plugin_dir", "staging_dir"}) {
      const std::string message = ErrorOf(With("", key, c.connection));
      EXPECT_EQ(message, std::string(key) +
                             ": expected a folder path, got a string that holds a password (a "
                             "connection string?); it is not shown")
          << c.name;
      outboxd::testing::ExpectNoSecret(message, c, key);
    }
  }
  // Ordinary paths, including ones with '@', ':' and '=' in them, are fine.
  for (const char* path : {"/opt/outboxd/plugins", "rel/dir", "/srv/a@b:c=d/x", "/p/word=x"}) {
    EXPECT_EQ(ParseOk(With("", "plugin_dir", path)).plugin_dir, path);
  }
}

TEST(ConfigBadValueTest, TopLevelMustBeAnObject) {
  EXPECT_EQ(ErrorOfText("[]"), "expected a JSON object at the top level, got an array");
  EXPECT_EQ(ErrorOfText("\"x\""), "expected a JSON object at the top level, got a string");
}

TEST(ConfigBadValueTest, FirstErrorOnlyInFileOrder) {
  json config = Minimal();
  config["log_level"] = "loud";
  config["dispatch"] = {{"workers", 0}};
  EXPECT_EQ(ErrorOf(config).rfind("log_level:", 0), 0u);
}

// ---------------------------------------------------------------------------------------------
// Durations in the file

TEST(ConfigDurationTest, EveryDurationKeyAcceptsTheSyntax) {
  struct Case {
    const char* section;
    const char* key;
  };
  for (Case c : {Case{"discovery", "refresh_interval"}, Case{"discovery", "cache_ttl"},
                 Case{"dispatch", "poll_interval"}, Case{"dispatch", "lease"},
                 Case{"dispatch", "handler_timeout"},
                 Case{"dispatch", "shutdown_grace"}, Case{"stores", "busy_timeout"},
                 Case{"stores", "retention"}, Case{"stores", "cleanup_interval"}}) {
    json config = With(c.section, c.key, "1h30m");
    if (std::string(c.key) == "poll_interval") config["dispatch"]["max_poll_interval"] = "2h";
    OutboxdConfig out;
    Status status = ParseConfig(config.dump(), &out);
    EXPECT_TRUE(status.ok()) << c.section << "." << c.key << ": " << status.ToString();
  }
  OutboxdConfig c = ParseOk(With("stores", "retention", "1d12h"));
  EXPECT_EQ(c.stores.retention, std::chrono::hours(36));
}

// Issue 14, finding 16: "106751991167d" parsed (it fits in milliseconds) and then overflowed the
// clock arithmetic of claims and shutdown. Every duration key stops at 3650d.
TEST(ConfigDurationTest, EveryDurationKeyIsBounded) {
  struct Case {
    const char* section;
    const char* key;
  };
  for (Case c : {Case{"discovery", "refresh_interval"}, Case{"discovery", "cache_ttl"},
                 Case{"dispatch", "poll_interval"}, Case{"dispatch", "max_poll_interval"},
                 Case{"dispatch", "lease"}, Case{"dispatch", "handler_timeout"},
                 Case{"dispatch", "shutdown_grace"},
                 Case{"stores", "busy_timeout"}, Case{"stores", "retention"},
                 Case{"stores", "cleanup_interval"}}) {
    const std::string path = std::string(c.section) + "." + c.key;
    EXPECT_EQ(ErrorOf(With(c.section, c.key, "106751991167d")),
              path + ": must be at most 3650d, got \"106751991167d\"");
    EXPECT_EQ(ErrorOf(With(c.section, c.key, "3650d1ms")),
              path + ": must be at most 3650d, got \"3650d1ms\"");
    json config = With(c.section, c.key, "3650d");
    if (std::string(c.key) == "poll_interval") config["dispatch"]["max_poll_interval"] = "3650d";
    OutboxdConfig out;
    Status status = ParseConfig(config.dump(), &out);
    EXPECT_TRUE(status.ok()) << path << ": " << status.ToString();
  }
}

TEST(ConfigDurationTest, NumbersAreNotDurations) {
  EXPECT_EQ(ErrorOf(With("dispatch", "lease", 30)),
            "dispatch.lease: expected a duration string such as \"30s\", got 30");
  EXPECT_EQ(ErrorOf(With("dispatch", "lease", nullptr)),
            "dispatch.lease: expected a duration string such as \"30s\", got null");
}

TEST(ConfigDurationTest, SyntaxErrorsNameTheKey) {
  std::string message = ErrorOf(With("discovery", "refresh_interval", "5 minutes"));
  EXPECT_EQ(message.rfind("discovery.refresh_interval: expected a duration such as", 0), 0u)
      << message;
  EXPECT_NE(message.find("\"5 minutes\""), std::string::npos) << message;
  message = ErrorOf(With("stores", "retention", "-1d"));
  EXPECT_EQ(message.rfind("stores.retention: ", 0), 0u) << message;
  EXPECT_NE(message.find("negative"), std::string::npos) << message;
  message = ErrorOf(With("dispatch", "poll_interval", "1w"));
  EXPECT_NE(message.find("unknown unit \"w\""), std::string::npos) << message;
  message = ErrorOf(With("dispatch", "shutdown_grace", "99999999999999999999s"));
  EXPECT_NE(message.find("too large"), std::string::npos) << message;
  message = ErrorOf(With("dispatch", "lease", ""));
  EXPECT_EQ(message.rfind("dispatch.lease: ", 0), 0u) << message;
}

TEST(ConfigDurationTest, Minimums) {
  EXPECT_EQ(ErrorOf(With("discovery", "refresh_interval", "99ms")),
            "discovery.refresh_interval: must be at least 100ms, got \"99ms\"");
  EXPECT_EQ(ErrorOf(With("discovery", "refresh_interval", "0s")),
            "discovery.refresh_interval: must be at least 100ms, got \"0s\"");
  EXPECT_EQ(ErrorOf(With("dispatch", "poll_interval", "0s")),
            "dispatch.poll_interval: must be at least 1ms, got \"0s\"");
  EXPECT_EQ(ErrorOf(With("dispatch", "lease", "99ms")),
            "dispatch.lease: must be at least 100ms, got \"99ms\"");
  EXPECT_EQ(ErrorOf(With("dispatch", "handler_timeout", "99ms")),
            "dispatch.handler_timeout: must be at least 100ms, got \"99ms\"");
  EXPECT_EQ(ErrorOf(With("stores", "cleanup_interval", "999ms")),
            "stores.cleanup_interval: must be at least 1s, got \"999ms\"");
}

// Issue 14 finding 9: the handler deadline defaults to the lease (given or not), and may differ.
TEST(ConfigDurationTest, HandlerTimeoutDefaultsToTheLease) {
  EXPECT_EQ(ParseOk(Minimal()).dispatch.handler_timeout, std::chrono::seconds(30));
  EXPECT_EQ(ParseOk(With("dispatch", "lease", "2m")).dispatch.handler_timeout,
            std::chrono::minutes(2));
  json config = With("dispatch", "lease", "2m");
  config["dispatch"]["handler_timeout"] = "5s";
  const OutboxdConfig c = ParseOk(config);
  EXPECT_EQ(c.dispatch.handler_timeout, std::chrono::seconds(5));
  EXPECT_EQ(c.dispatch.lease, std::chrono::minutes(2));
}

TEST(ConfigDurationTest, MaxPollIntervalBelowPollInterval) {
  json config = With("dispatch", "poll_interval", "1s");
  config["dispatch"]["max_poll_interval"] = "500ms";
  EXPECT_EQ(ErrorOf(config),
            "dispatch.max_poll_interval: must be at least dispatch.poll_interval (1s), got 500ms");
  EXPECT_EQ(ErrorOf(With("dispatch", "max_poll_interval", "100ms")),
            "dispatch.max_poll_interval: must be at least dispatch.poll_interval (250ms), "
            "got 100ms");
}

// ---------------------------------------------------------------------------------------------
// Malformed JSON

TEST(ConfigMalformedJsonTest, ReportsLineAndColumn) {
  std::string message = ErrorOfText("{\n  \"plugin_dir\": \"/p\",\n  \"discovery\": ,\n}");
  EXPECT_EQ(message.rfind("malformed JSON at line 3, column 16: ", 0), 0u) << message;
}

TEST(ConfigMalformedJsonTest, TrailingComma) {
  std::string message = ErrorOfText("{\"plugin_dir\": \"/p\",\n}");
  EXPECT_EQ(message.rfind("malformed JSON at line 2, column 1: ", 0), 0u) << message;
}

TEST(ConfigMalformedJsonTest, UnterminatedObjectPointsPastTheEnd) {
  std::string message = ErrorOfText("{\"plugin_dir\": \"/p\"");
  EXPECT_EQ(message.rfind("malformed JSON at line 1, column 20: ", 0), 0u) << message;
  EXPECT_NE(message.find("unexpected end of input"), std::string::npos) << message;
}

TEST(ConfigMalformedJsonTest, EmptyText) {
  std::string message = ErrorOfText("");
  EXPECT_EQ(message.rfind("malformed JSON at line 1, column 1: ", 0), 0u) << message;
}

TEST(ConfigMalformedJsonTest, CommentsAreNotJson) {
  std::string message = ErrorOfText("{\n  // plugins\n  \"plugin_dir\": \"/p\"}");
  EXPECT_EQ(message.rfind("malformed JSON at line 2, column 3: ", 0), 0u) << message;
}

TEST(ConfigMalformedJsonTest, TextReadAtTheErrorIsNotQuoted) {
  std::string message = ErrorOfText("{\"discovery\": {\"config\": {\"password\": hunter2}}}");
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  EXPECT_EQ(message.find("last read"), std::string::npos) << message;
  EXPECT_EQ(message.find("json.exception"), std::string::npos) << message;
}

TEST(ConfigMalformedJsonTest, DuplicateKeys) {
  EXPECT_EQ(ErrorOfText(R"({"plugin_dir": "/a", "plugin_dir": "/b"})"),
            "plugin_dir: duplicate key");
  EXPECT_EQ(ErrorOfText(R"({"plugin_dir": "/a", "discovery": {"plugin": "x", "plugin": "y"}})"),
            "discovery.plugin: duplicate key");
  EXPECT_EQ(ErrorOfText(R"({"plugin_dir": "/a", "discovery": {"plugin": "x"},
                           "handlers": [{"plugin": "a"},
                                        {"plugin": "b", "config": {"k": 1, "k": 2}}]})"),
            "handlers[1].config.k: duplicate key");
}

TEST(ConfigMalformedJsonTest, SameKeyInDifferentObjectsIsFine) {
  OutboxdConfig out;
  Status status = ParseConfig(
      R"({"plugin_dir": "/a", "discovery": {"plugin": "x", "config": {"plugin": 1}},
          "handlers": [{"plugin": "a"}, {"plugin": "b"}]})",
      &out);
  EXPECT_TRUE(status.ok()) << status.ToString();
}

// ---------------------------------------------------------------------------------------------
// LoadConfigFile

TEST(ConfigLoadFileTest, ResolvesRelativePathsAgainstTheFilesFolder) {
  testing::TempDir dir;
  json config = Minimal();
  config["plugin_dir"] = "plugins";
  config["staging_dir"] = "../staging/./x";
  std::filesystem::path file = dir.WriteFile("etc/outboxd.json", config.dump());
  OutboxdConfig out;
  Status status = LoadConfigFile(file, &out);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(out.plugin_dir, (dir.path() / "etc" / "plugins").string());
  EXPECT_EQ(out.staging_dir, (dir.path() / "staging" / "x").string());
}

TEST(ConfigLoadFileTest, AbsolutePathsAndDefaultsAreKept) {
  testing::TempDir dir;
  std::filesystem::path file = dir.WriteFile("outboxd.json", Minimal().dump());
  OutboxdConfig out;
  ASSERT_TRUE(LoadConfigFile(file, &out).ok());
  EXPECT_EQ(out.plugin_dir, "/opt/outboxd/plugins");
  EXPECT_EQ(out.staging_dir, "");
}

TEST(ConfigLoadFileTest, RelativeConfigPathIsResolvedFromTheWorkingDirectory) {
  testing::TempDir dir;
  json config = Minimal();
  config["plugin_dir"] = "plugins";
  dir.WriteFile("outboxd.json", config.dump());
  std::filesystem::path cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  OutboxdConfig out;
  Status status = LoadConfigFile("outboxd.json", &out);
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(out.plugin_dir, (dir.path() / "plugins").string());
}

TEST(ConfigLoadFileTest, MissingFile) {
  testing::TempDir dir;
  OutboxdConfig out;
  Status status = LoadConfigFile(dir / "nope.json", &out);
  EXPECT_EQ(status.code(), Status::Code::kNotFound);
  EXPECT_NE(status.message().find("nope.json"), std::string::npos) << status.message();
}

TEST(ConfigLoadFileTest, DirectoryInsteadOfFile) {
  testing::TempDir dir;
  OutboxdConfig out;
  EXPECT_EQ(LoadConfigFile(dir.path(), &out).code(), Status::Code::kIoError);
}

TEST(ConfigLoadFileTest, ErrorsArePrefixedWithThePath) {
  testing::TempDir dir;
  std::filesystem::path file =
      dir.WriteFile("bad.json", With("dispatch", "batch_size", "abc").dump());
  OutboxdConfig out;
  Status status = LoadConfigFile(file, &out);
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(
      status.message(),
      file.string() + ": dispatch.batch_size: expected an integer from 1 to 10000, got a string");

  // A missing comma: nlohmann notices at the end of the next token.
  file = dir.WriteFile("broken.json", "{\n\"plugin_dir\": \"/p\"\n\"discovery\": {}}");
  status = LoadConfigFile(file, &out);
  EXPECT_EQ(status.message().rfind(file.string() + ": malformed JSON at line 3, column 11: ", 0),
            0u)
      << status.message();
}

// ---------------------------------------------------------------------------------------------
// DescribeConfig

TEST(ConfigDescribeTest, OneLineWithPluginNamesButNoPluginConfig) {
  json config = Minimal();
  config["discovery"]["config"] = {{"dsn", "postgresql://admin:hunter2@db/global"}};
  config["handlers"] = json::parse(R"([
      {"plugin": "webhook", "topics": ["orders.created", "orders.paid"],
       "config": {"token": "s3cr3t-token"}},
      {"plugin": "audit"}])");
  std::string line = DescribeConfig(ParseOk(config));
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
  EXPECT_EQ(line.find("s3cr3t"), std::string::npos) << line;
  EXPECT_EQ(line.find("dsn"), std::string::npos) << line;
  EXPECT_NE(line.find("plugin_dir=/opt/outboxd/plugins"), std::string::npos) << line;
  EXPECT_NE(line.find("discovery={plugin=static refresh_interval=5m"), std::string::npos) << line;
  EXPECT_NE(line.find("poll_interval=250ms"), std::string::npos) << line;
  EXPECT_NE(line.find("retention=7d"), std::string::npos) << line;
  EXPECT_NE(line.find("handlers=[webhook topics=orders.created,orders.paid, audit "
                      "topics=<declared>]"),
            std::string::npos)
      << line;
}

TEST(ConfigDescribeTest, NamesRuntimeDefaults) {
  std::string line = DescribeConfig(ParseOk(Minimal()));
  EXPECT_NE(line.find("staging_dir=<default>"), std::string::npos) << line;
  EXPECT_NE(line.find("worker_id=<host:pid>"), std::string::npos) << line;
  EXPECT_NE(line.find("handlers=[]"), std::string::npos) << line;
}

// ---------------------------------------------------------------------------------------------
// Plugin security keys (hot reload, issue 4)

TEST(ConfigPluginSecurityTest, Defaults) {
  OutboxdConfig c = ParseOk(Minimal());
  EXPECT_FALSE(c.allow_insecure_plugin_dir);
  EXPECT_TRUE(c.plugin_sha256_allowlist.empty());
}

TEST(ConfigPluginSecurityTest, AllowInsecurePluginDir) {
  EXPECT_TRUE(ParseOk(With("", "allow_insecure_plugin_dir", true)).allow_insecure_plugin_dir);
  EXPECT_EQ(ErrorOf(With("", "allow_insecure_plugin_dir", "yes")),
            "allow_insecure_plugin_dir: expected true or false, got a string");
}

TEST(ConfigPluginSecurityTest, AllowlistIsLowerCased) {
  const std::string upper(64, 'A');
  const std::string digits = std::string(63, '0') + "f";
  OutboxdConfig c = ParseOk(With("", "plugin_sha256_allowlist", json::array({upper, digits})));
  EXPECT_EQ(c.plugin_sha256_allowlist, (std::vector<std::string>{std::string(64, 'a'), digits}));
}

TEST(ConfigPluginSecurityTest, AllowlistRejectsMalformedDigests) {
  EXPECT_EQ(ErrorOf(With("", "plugin_sha256_allowlist", json::array({"abc"}))),
            "plugin_sha256_allowlist: expected SHA-256 digests of 64 hex digits, got \"abc\"");
  EXPECT_EQ(ErrorOf(With("", "plugin_sha256_allowlist", json::array({std::string(64, 'g')}))),
            "plugin_sha256_allowlist: expected SHA-256 digests of 64 hex digits, got \"" +
                std::string(64, 'g') + "\"");
  EXPECT_EQ(ErrorOf(With("", "plugin_sha256_allowlist", json::array())),
            "plugin_sha256_allowlist: must not be empty (leave the key out to allow any plugin "
            "file)");
  EXPECT_EQ(ErrorOf(With("", "plugin_sha256_allowlist", "abc")),
            "plugin_sha256_allowlist: expected an array of strings, got a string");
}

}  // namespace
}  // namespace outboxd

// ---------------------------------------------------------------------------------------------
// http and log_format (issue 10)

namespace outboxd {
namespace {

TEST(ConfigHttpTest, DefaultsAreOffWithACapOf1000And30sBacklogInterval) {
  OutboxdConfig c;
  ASSERT_TRUE(ParseConfig(Minimal().dump(), &c).ok());
  EXPECT_EQ(c.http.listen, "");
  EXPECT_EQ(c.http.max_tenant_series, 1000);
  EXPECT_EQ(c.http.backlog_interval, std::chrono::seconds(30));
  EXPECT_EQ(c.log_format, "text");
}

TEST(ConfigHttpTest, ValuesAreRead) {
  json config = Minimal();
  config["http"] = {{"listen", "[::1]:0"}, {"max_tenant_series", 5}, {"backlog_interval", "2s"}};
  config["log_format"] = "json";
  OutboxdConfig c;
  ASSERT_TRUE(ParseConfig(config.dump(), &c).ok());
  EXPECT_EQ(c.http.listen, "[::1]:0");
  EXPECT_EQ(c.http.max_tenant_series, 5);
  EXPECT_EQ(c.http.backlog_interval, std::chrono::seconds(2));
  EXPECT_EQ(c.log_format, "json");
}

TEST(ConfigHttpTest, BadValuesNameTheKey) {
  EXPECT_EQ(ErrorOf(With("http", "listen", "9780")).rfind("http.listen: expected \"host:port\"", 0), 0u);
  EXPECT_EQ(ErrorOf(With("http", "listen", "127.0.0.1:70000")).rfind("http.listen: ", 0), 0u);
  EXPECT_EQ(ErrorOf(With("http", "max_tenant_series", -1)).rfind("http.max_tenant_series: ", 0), 0u);
  EXPECT_EQ(ErrorOf(With("http", "backlog_interval", "10ms")).rfind("http.backlog_interval: ", 0), 0u);
  EXPECT_EQ(ErrorOf(With("http", "bogus", 1)).rfind("http.bogus: unknown key", 0), 0u);
  EXPECT_EQ(ErrorOf(With("", "log_format", "xml")).rfind("log_format: ", 0), 0u);
}

}  // namespace
}  // namespace outboxd
