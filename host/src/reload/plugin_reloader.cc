#include "reload/plugin_reloader.h"

#include <spdlog/spdlog.h>

#include <set>
#include <utility>

#include "reload/plugin_discovery_source.h"
#include "reload/plugin_message_handler.h"
#include "plugin/discovery_instance.h"
#include "plugin/handler_instance.h"
#include "plugin/plugin_file_policy.h"

namespace outboxd {

namespace fs = std::filesystem;

struct PluginReloader::Slot {
  FileIdentity identity;                  // of the file as last examined
  std::shared_ptr<LoadedPlugin> plugin;   // the live generation from this file; null: none
  std::string rejected_sha;               // content rejected for good; not retried until it changes
  std::shared_ptr<LoadedPlugin> waiting;  // loaded but not wired (a clash): retried at each scan
  std::string last_error;                 // the rejection last logged for this file
};

namespace {

std::string Label(const LoadedPlugin& p) {
  return "'" + p.name() + "' " + p.version() + " (generation " + std::to_string(p.generation()) +
         ")";
}

// " (loaded: 'a', 'b')" or " (no plugin loaded)": what the operator could have meant.
std::string Available(const std::map<std::string, std::shared_ptr<LoadedPlugin>>& by_name,
                      bool discovery) {
  std::string names;
  for (const auto& [name, plugin] : by_name) {
    if (discovery ? !plugin->is_discovery() : !plugin->is_handler()) continue;
    names += (names.empty() ? "'" : ", '") + name + "'";
  }
  const std::string kind = discovery ? "discovery" : "handler";
  return names.empty() ? " (no " + kind + " plugin loaded)" : " (" + kind + " plugins loaded: " + names + ")";
}

std::string Rejected(const fs::path& file) {
  return "plugin '" + file.filename().string() + "' rejected";
}

}  // namespace

PluginReloader::PluginReloader(PluginReloaderOptions options, RoutingState* routing,
                               SwitchableDiscoverySource* discovery, GenerationReaper* reaper)
    : options_(std::move(options)),
      routing_(routing),
      discovery_(discovery),
      reaper_(reaper),
      scanner_(options_.settle) {}

PluginReloader::~PluginReloader() = default;

Status PluginReloader::CheckFile(const ScannedFile& file) const {
  if (options_.allow_insecure) return Status::OK();
  return CheckPluginFileOwnership(file.path);
}

Status PluginReloader::MakeWiring(const std::shared_ptr<LoadedPlugin>& plugin, Wiring* out) const {
  Wiring wiring;
  wiring.plugin = plugin;
  bool configured = false;
  for (std::size_t i = 0; i < options_.handlers.size(); ++i) {
    const HandlerConfig& hc = options_.handlers[i];
    if (hc.plugin != plugin->name()) continue;
    configured = true;
    const std::string key = "handlers[" + std::to_string(i) + "]";
    const std::vector<std::string>& topics = hc.topics.empty() ? plugin->declared_topics()
                                                               : hc.topics;
    if (topics.empty()) {
      return Status::InvalidArgument(key + ".topics: plugin '" + hc.plugin +
                                     "' declares no topics; list the topics it should receive");
    }
    std::shared_ptr<HandlerInstance> instance;
    OBX_RETURN_IF_ERROR(HandlerInstance::Create(plugin, hc.config_json, &instance)
                            .WithContext(key + ".config"));
    std::shared_ptr<const MessageHandler> handler =
        reaper_->Adopt(std::make_unique<PluginMessageHandler>(std::move(instance)));
    for (const std::string& topic : topics) wiring.routes.emplace_back(topic, handler);
  }
  // A handler plugin that declares its topics needs no entry.
  if (!configured && !plugin->declared_topics().empty()) {
    std::shared_ptr<HandlerInstance> instance;
    // The error already starts "plugin '<name>': handler create failed".
    OBX_RETURN_IF_ERROR(HandlerInstance::Create(plugin, "{}", &instance));
    std::shared_ptr<const MessageHandler> handler =
        reaper_->Adopt(std::make_unique<PluginMessageHandler>(std::move(instance)));
    for (const std::string& topic : plugin->declared_topics()) {
      wiring.routes.emplace_back(topic, handler);
    }
  }
  *out = std::move(wiring);
  return Status::OK();
}

Status PluginReloader::BuildTable(const std::map<std::string, Wiring>& handlers,
                                  std::shared_ptr<const HandlerTable>* out) {
  std::vector<HandlerTable::Route> routes;
  for (const auto& [name, wiring] : handlers) {
    routes.insert(routes.end(), wiring.routes.begin(), wiring.routes.end());
  }
  std::vector<std::string> parked;
  for (const auto& [key, spelling] : known_topics_) parked.push_back(spelling);
  return HandlerTable::Build(std::move(routes), parked, options_.park_unknown_topics, out);
}

Status PluginReloader::MakeDiscovery(const std::shared_ptr<LoadedPlugin>& plugin,
                                     std::shared_ptr<DiscoverySource>* out) const {
  std::unique_ptr<DiscoveryInstance> instance;
  OBX_RETURN_IF_ERROR(
      DiscoveryInstance::Create(plugin, options_.discovery_config_json, &instance));
  *out = std::make_shared<PluginDiscoverySource>(std::move(instance));
  return Status::OK();
}

Status PluginReloader::LoadInitial() {
  const fs::path& dir = options_.plugin_dir;
  if (options_.allow_insecure) {
    spdlog::warn("allow_insecure_plugin_dir is set: plugin files and {} are loaded whoever can "
                 "write them. Use this for development only",
                 dir.string());
  }
  PluginDirScan scan;
  Status scanned = scanner_.Scan(dir, Clock::now(), /*trust_now=*/true, &scan);
  if (!scanned.ok()) {
    // A missing or unreadable plugin_dir is the operator's to fix: InvalidArgument (exit 2), so
    // that systemd does not restart outboxd in a loop.
    return Status::InvalidArgument("plugin_dir: " + scanned.message());
  }
  if (!options_.allow_insecure) {
    Status s = CheckPluginFileOwnership(dir);
    if (!s.ok()) {
      return Status::InvalidArgument("plugin_dir: " + s.message() +
                                     " (allow_insecure_plugin_dir is for development only)");
    }
  }
  std::map<std::string, std::shared_ptr<LoadedPlugin>> by_name;
  int loaded = 0;
  int rejected = 0;
  for (const ScannedFile& file : scan.stable) {
    auto slot = std::make_unique<Slot>();
    slot->identity = file.identity;
    std::shared_ptr<LoadedPlugin> plugin;
    Status s = CheckFile(file).WithContext(Rejected(file.path));
    const bool secure = s.ok();
    if (s.ok()) s = LoadPlugin(file.path, options_.load, &plugin);
    if (s.ok()) {
      auto existing = by_name.find(plugin->name());
      if (existing == by_name.end()) {
        by_name.emplace(plugin->name(), plugin);
        slot->plugin = std::move(plugin);
        ++loaded;
        slots_[file.path] = std::move(slot);
        continue;
      }
      s = Status::InvalidArgument(Rejected(file.path) + ": duplicate plugin name '" +
                                  plugin->name() + "' (already loaded from " +
                                  existing->second->source_path().filename().string() + ")");
      slot->waiting = std::move(plugin);
    } else if (secure) {
      (void)Sha256OfFile(file.path, &slot->rejected_sha);  // rejected for good while unchanged
    }
    spdlog::error("{}", s.message());
    slot->last_error = s.message();
    load_errors_.fetch_add(1, std::memory_order_relaxed);
    ++rejected;
    slots_[file.path] = std::move(slot);
  }
  spdlog::info("plugin folder {}: {} loaded, {} rejected", dir.string(), loaded, rejected);

  auto found = by_name.find(options_.discovery_plugin);
  if (found == by_name.end()) {
    return Status::InvalidArgument("discovery.plugin: no plugin named '" +
                                   options_.discovery_plugin + "' in " + dir.string() +
                                   Available(by_name, /*discovery=*/true));
  }
  if (!found->second->is_discovery()) {
    return Status::InvalidArgument("discovery.plugin: plugin '" + options_.discovery_plugin +
                                   "' is not a discovery plugin");
  }
  std::shared_ptr<DiscoverySource> source;
  OBX_RETURN_IF_ERROR(MakeDiscovery(found->second, &source).WithContext("discovery.config"));
  if (options_.discovery_only) {
    discovery_plugin_ = found->second;
    discovery_->Set(std::move(source));
    return Status::OK();
  }

  for (std::size_t i = 0; i < options_.handlers.size(); ++i) {
    const HandlerConfig& hc = options_.handlers[i];
    const std::string key = "handlers[" + std::to_string(i) + "]";
    auto it = by_name.find(hc.plugin);
    if (it == by_name.end()) {
      return Status::InvalidArgument(key + ".plugin: no plugin named '" + hc.plugin + "' in " +
                                     dir.string() + Available(by_name, /*discovery=*/false));
    }
    if (!it->second->is_handler()) {
      return Status::InvalidArgument(key + ".plugin: plugin '" + hc.plugin +
                                     "' is not a handler plugin");
    }
    for (const std::string& topic : hc.topics) known_topics_.emplace(FoldTopic(topic), topic);
    const std::vector<std::string>& declared = it->second->declared_topics();
    if (!hc.topics.empty() && !declared.empty() && hc.topics != declared) {
      auto join = [](const std::vector<std::string>& topics) {
        std::string text;
        for (const std::string& t : topics) text += (text.empty() ? "'" : ", '") + t + "'";
        return text;
      };
      spdlog::info("{}.topics replaces the topics plugin '{}' declares ({}): it receives {}", key,
                   hc.plugin, join(declared), join(hc.topics));
    }
  }
  std::map<std::string, Wiring> handlers;
  for (const auto& [name, plugin] : by_name) {
    if (!plugin->is_handler()) continue;
    Wiring wiring;
    OBX_RETURN_IF_ERROR(MakeWiring(plugin, &wiring));
    if (!wiring.routes.empty()) handlers.emplace(name, std::move(wiring));
  }
  std::shared_ptr<const HandlerTable> table;
  OBX_RETURN_IF_ERROR(BuildTable(handlers, &table).WithContext("handlers"));
  if (table->size() == 0 && !options_.park_unknown_topics && !options_.allow_no_handlers) {
    return Status::InvalidArgument(
        "handlers: no handler topic is configured or declared by a plugin in " + dir.string() +
        ", and dispatch.unknown_topic is \"fail\": every message of every tenant would fail. "
        "Add a handler, set dispatch.unknown_topic to \"park\", or start outboxd with "
        "--allow-no-handlers");
  }

  handlers_ = std::move(handlers);
  discovery_plugin_ = found->second;
  discovery_->Set(std::move(source));
  for (const std::string& topic : table->Topics()) {
    spdlog::info("Topic '{}' -> {}", topic, table->Find(topic)->Describe());
    known_topics_.emplace(FoldTopic(topic), topic);
  }
  if (table->size() == 0 && !options_.park_unknown_topics) {
    spdlog::warn("No handler topics configured (--allow-no-handlers): every message will fail");
  } else if (options_.park_unknown_topics) {
    spdlog::info("dispatch.unknown_topic is \"park\": messages of topics without a handler are "
                 "parked (not delivered, no attempt counted) until a handler for them is loaded");
  }
  routing_->Publish(std::move(table));
  return Status::OK();
}

void PluginReloader::Publish(std::shared_ptr<const HandlerTable> table, const std::string& cause) {
  const std::shared_ptr<const HandlerTable> old = routing_->Current();
  for (const std::string& topic : table->Topics()) {
    std::shared_ptr<const MessageHandler> now = table->FindShared(topic);
    if (now == old->FindShared(topic)) continue;
    spdlog::info("Topic '{}' -> {}{}", topic, now->Describe(),
                 old->IsParked(topic) ? " (was parked: its messages are delivered again)" : "");
    known_topics_.emplace(FoldTopic(topic), topic);
  }
  for (const std::string& topic : table->ParkedTopics()) {
    if (old->IsParked(topic)) continue;
    spdlog::warn("Topic '{}' has no handler since {}: its messages are parked (not delivered, no "
                 "attempt counted) until a handler for it is loaded again",
                 topic, cause);
  }
  routing_->Publish(std::move(table));
  if (on_change_) on_change_();
}

Status PluginReloader::Apply(const fs::path& path, const std::shared_ptr<LoadedPlugin>& next) {
  Slot& slot = *slots_.at(path);
  const std::shared_ptr<LoadedPlugin> prev = slot.plugin;
  if (next) {
    for (const auto& [other_path, other] : slots_) {
      if (other_path != path && other->plugin && other->plugin->name() == next->name()) {
        return Status::InvalidArgument("duplicate plugin name '" + next->name() +
                                       "' (already loaded from " +
                                       other_path.filename().string() + ")");
      }
    }
  }
  const bool routing_changes = (prev && prev->is_handler()) || (next && next->is_handler());
  std::map<std::string, Wiring> handlers = handlers_;
  if (prev) {
    auto it = handlers.find(prev->name());
    if (it != handlers.end() && it->second.plugin == prev) handlers.erase(it);
  }
  if (next && next->is_handler()) {
    Wiring wiring;
    OBX_RETURN_IF_ERROR(MakeWiring(next, &wiring));
    if (!wiring.routes.empty()) handlers[next->name()] = std::move(wiring);
  }
  std::shared_ptr<const HandlerTable> table;
  if (routing_changes) OBX_RETURN_IF_ERROR(BuildTable(handlers, &table).WithContext("handlers"));
  std::shared_ptr<DiscoverySource> source;
  bool discovery_changes = false;
  if (next && next->is_discovery() && next->name() == options_.discovery_plugin) {
    OBX_RETURN_IF_ERROR(MakeDiscovery(next, &source).WithContext("discovery.config"));
    discovery_changes = true;
  } else if (prev && prev == discovery_plugin_) {
    discovery_changes = true;
  }

  // Every check passed: commit.
  slot.plugin = next;
  slot.waiting.reset();
  handlers_ = std::move(handlers);
  const std::string file = path.filename().string();
  std::string cause;
  if (prev && next) {
    spdlog::info("Plugin {} replaced by {} from {}", Label(*prev), Label(*next), file);
    cause = "plugin " + Label(*next) + " replaced " + Label(*prev);
  } else if (next) {
    spdlog::info("Plugin {} added from {}", Label(*next), file);
  } else if (prev) {
    spdlog::info("Plugin {} removed ({} is gone from the plugin folder)", Label(*prev), file);
    cause = "plugin " + Label(*prev) + " was removed";
  }
  if (routing_changes) Publish(std::move(table), cause);
  if (discovery_changes) {
    if (source) {
      spdlog::info("Discovery plugin {} is used from the next refresh on", Label(*next));
      discovery_->Set(std::move(source));
      discovery_plugin_ = next;
    } else {
      spdlog::warn("Discovery plugin {} removed: the current tenant set is kept, without "
                   "refreshes, until a plugin named '{}' is loaded again",
                   Label(*prev), options_.discovery_plugin);
      discovery_->Set(nullptr);
      discovery_plugin_.reset();
    }
  }
  if (prev && prev != next) reaper_->Track(prev);
  return Status::OK();
}

void PluginReloader::ExamineFile(const ScannedFile& file) {
  std::unique_ptr<Slot>& owned = slots_[file.path];
  if (!owned) owned = std::make_unique<Slot>();
  Slot& slot = *owned;
  auto reject = [&](const Status& s, const std::string& sha) {
    const std::string keeps =
        slot.plugin ? "; " + Label(*slot.plugin) + " keeps serving" : "; nothing loaded from it";
    if (s.message() != slot.last_error) {
      spdlog::error("{}{}", s.message(), keeps);
      load_errors_.fetch_add(1, std::memory_order_relaxed);
    }
    slot.last_error = s.message();
    slot.identity = file.identity;
    if (!sha.empty()) slot.rejected_sha = sha;
  };
  if (slot.waiting && slot.identity == file.identity) {  // a clash: maybe resolved by now
    std::shared_ptr<LoadedPlugin> waiting = slot.waiting;
    Status s = Apply(file.path, waiting);
    if (!s.ok()) reject(s.WithContext(Rejected(file.path)), "");
    if (s.ok()) slot.last_error.clear();
    return;
  }
  if (slot.identity == file.identity && (slot.plugin || !slot.rejected_sha.empty())) return;

  Status s = CheckFile(file);
  if (!s.ok()) return reject(s.WithContext(Rejected(file.path)), "");
  std::string sha;
  if (!Sha256OfFile(file.path, &sha).ok()) return;  // vanished meanwhile: next scan
  if ((slot.plugin && slot.plugin->sha256() == sha) || sha == slot.rejected_sha) {
    slot.identity = file.identity;  // touched, or copied again with the same bytes
    return;
  }
  std::shared_ptr<LoadedPlugin> next = reaper_->Revive(sha);
  if (next) {
    spdlog::info("{} has the content of {}, still loaded for calls in flight: putting that "
                 "generation back into service",
                 file.path.filename().string(), Label(*next));
  } else {
    s = LoadPlugin(file.path, options_.load, &next);
    if (!s.ok()) return reject(s, sha);
  }
  s = Apply(file.path, next);
  if (!s.ok()) {
    reject(s.WithContext(Rejected(file.path)), "");
    slot.waiting = std::move(next);
    return;
  }
  slot.identity = file.identity;
  slot.rejected_sha.clear();
  slot.last_error.clear();
}

void PluginReloader::Rescan(Clock::time_point now) {
  const fs::path& dir = options_.plugin_dir;
  PluginDirScan scan;
  Status s = scanner_.Scan(dir, now, /*trust_now=*/false, &scan);
  if (s.ok() && !options_.allow_insecure) s = CheckPluginFileOwnership(dir);
  if (!s.ok()) {
    if (s.message() != scan_problem_) {
      spdlog::error("Plugin folder not rescanned: {}; the loaded plugins keep serving",
                    s.message());
    }
    scan_problem_ = s.message();
    recheck_at_.reset();
    return;
  }
  scan_problem_.clear();
  recheck_at_ = scan.recheck_at;
  std::set<fs::path> present(scan.unsettled.begin(), scan.unsettled.end());
  for (const ScannedFile& file : scan.stable) present.insert(file.path);
  for (auto it = slots_.begin(); it != slots_.end();) {
    if (present.count(it->first) > 0) {
      ++it;
      continue;
    }
    if (it->second->plugin) {
      Status removed = Apply(it->first, nullptr);  // removing cannot clash
      if (!removed.ok()) spdlog::error("Removing {}: {}", it->first.string(), removed.message());
    }
    it = slots_.erase(it);
  }
  for (const ScannedFile& file : scan.stable) ExamineFile(file);
}

size_t PluginReloader::Reap() {
  std::set<fs::path> live;
  for (const auto& [path, slot] : slots_) {
    if (slot->plugin) live.insert(slot->plugin->staged_path());
    if (slot->waiting) live.insert(slot->waiting->staged_path());
  }
  return reaper_->Reap(live);
}

std::shared_ptr<LoadedPlugin> PluginReloader::LiveFromFile(const std::string& file_name) const {
  auto it = slots_.find(options_.plugin_dir / file_name);
  return it == slots_.end() ? nullptr : it->second->plugin;
}

std::vector<std::shared_ptr<LoadedPlugin>> PluginReloader::LivePlugins() const {
  std::vector<std::shared_ptr<LoadedPlugin>> out;
  for (const auto& [path, slot] : slots_) {
    if (slot->plugin) out.push_back(slot->plugin);
  }
  return out;
}

}  // namespace outboxd
