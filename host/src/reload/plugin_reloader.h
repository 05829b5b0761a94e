// PluginReloader: keeps the running host in step with plugin_dir (hot reload, issue 4).
//
// Every load is a new *generation* (LoadedPlugin) made from a private staged copy. Routing reads
// an immutable HandlerTable {topic -> handler instance of one generation; parked topics}
// published through RoutingState; the discovery plugin sits behind a SwitchableDiscoverySource.
// A worker holds the table it claimed a batch under, and so the generations in it, until the
// batch is recorded. Publishing a new table retires the old generation: the GenerationReaper
// destroys it on the control thread once the last batch holding it is done, then reports whether
// glibc really unloaded the library.
//
// LoadInitial (start-up) loads every plugin file and wires the configured discovery plugin and the
// handlers; a wiring error the operator must fix is returned (exit 2), as before hot reload.
// Rescan (control thread: inotify trigger, every refresh, SIGHUP, or recheck_at) compares each
// plugin file by identity, then by content hash (a `touch` reloads nothing), waits until a new or
// changed file has stopped changing for the settle window, then applies one file at a time:
//   * changed: load the new generation, create its instances, build the new table; any failure
//     (not a plugin, wrong ABI, create throws, topic or name clash, insecure file, not in the
//     allow-list) rejects it with ONE error line and the previous generation keeps serving. The
//     same rejected content is not retried (a clash is retried silently at later scans, since it
//     may be resolved by another file);
//   * removed: its topics become *parked* (logged once): their messages are not delivered and no
//     attempt is counted (dispatcher.h: held in a parking lot or released to ready) until a handler
//     for the topic returns. A removed discovery plugin leaves
//     the current tenant set in place (no refreshes) until one with the configured name returns;
//     a replaced one is used from the next refresh on.
// Removals are applied before additions, so renaming a plugin's file never clashes with itself.
//
// OWNERSHIP: borrows routing, discovery and reaper; they must outlive it. Holds the live
// generations. THREADING: confined to the control thread, except ParkedTopics() (thread-safe).
#ifndef OUTBOXD_RELOAD_PLUGIN_RELOADER_H_
#define OUTBOXD_RELOAD_PLUGIN_RELOADER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "discovery/switchable_discovery_source.h"
#include "dispatch/handler_table.h"
#include "dispatch/routing_state.h"
#include "reload/generation_reaper.h"
#include "plugin/loaded_plugin.h"
#include "plugin/plugin_dir_scanner.h"
#include "plugin/plugin_loader.h"

namespace outboxd {

struct PluginReloaderOptions {
  std::filesystem::path plugin_dir;
  PluginLoadOptions load;  // staging folder and SHA-256 allow-list
  bool allow_insecure = false;  // skip the owner / mode checks (development)
  std::chrono::milliseconds settle{500};  // a changed file must stay unchanged this long
  std::string discovery_plugin;
  std::string discovery_config_json = "{}";
  std::vector<HandlerConfig> handlers;
  // dispatch.unknown_topic "park": every published table parks topics without a handler
  // (HandlerTable::Build park_unknown). Default false.
  bool park_unknown_topics = false;
  // Default false: LoadInitial refuses (InvalidArgument) to start with no handler topic at all
  // unless park_unknown_topics is set, since every message of every tenant would fail. True
  // (outboxd --allow-no-handlers) only warns.
  bool allow_no_handlers = false;
  // Default false. True (outboxctl --config): LoadInitial wires the discovery plugin only; handler
  // plugins are loaded and checked like every file but no handler instance is created and no
  // routing table is published. Such a reloader is not meant for Rescan.
  bool discovery_only = false;
};

class PluginReloader {
 public:
  using Clock = std::chrono::steady_clock;

  PluginReloader(PluginReloaderOptions options, RoutingState* routing,
                 SwitchableDiscoverySource* discovery, GenerationReaper* reaper);
  PluginReloader(const PluginReloader&) = delete;
  PluginReloader& operator=(const PluginReloader&) = delete;
  ~PluginReloader();

  Status LoadInitial();
  void Rescan(Clock::time_point now);

  // When a file seen changing may have settled; empty when none is waiting.
  std::optional<Clock::time_point> recheck_at() const { return recheck_at_; }

  // Destroys drained generations (see GenerationReaper). Returns how many are still draining.
  size_t Reap();

  // Called after every publish of a new table (e.g. to wake idle workers).
  void SetOnRoutingChange(std::function<void()> callback) { on_change_ = std::move(callback); }

  // Every live generation, one per plugin file (control thread; the status page gets a copy).
  std::vector<std::shared_ptr<LoadedPlugin>> LivePlugins() const;

  // Plugin files rejected so far (each rejection logged; outboxd_plugin_load_errors_total).
  // Thread-safe.
  int64_t load_errors() const { return load_errors_.load(std::memory_order_relaxed); }

  // The live generation loaded from `file_name` in plugin_dir, or nullptr.
  std::shared_ptr<LoadedPlugin> LiveFromFile(const std::string& file_name) const;

 private:
  struct Slot;
  struct Wiring {  // the routes one handler generation serves
    std::shared_ptr<LoadedPlugin> plugin;
    std::vector<HandlerTable::Route> routes;
  };

  Status CheckFile(const ScannedFile& file) const;
  Status MakeWiring(const std::shared_ptr<LoadedPlugin>& plugin, Wiring* out) const;
  Status BuildTable(const std::map<std::string, Wiring>& handlers,
                    std::shared_ptr<const HandlerTable>* out);
  Status MakeDiscovery(const std::shared_ptr<LoadedPlugin>& plugin,
                       std::shared_ptr<DiscoverySource>* out) const;
  // Puts `next` (nullptr: nothing) in place of the generation from `path`. On error nothing
  // changed.
  Status Apply(const std::filesystem::path& path, const std::shared_ptr<LoadedPlugin>& next);
  void ExamineFile(const ScannedFile& file);
  void Publish(std::shared_ptr<const HandlerTable> table, const std::string& cause);

  const PluginReloaderOptions options_;
  RoutingState* const routing_;
  SwitchableDiscoverySource* const discovery_;
  GenerationReaper* const reaper_;
  PluginDirScanner scanner_;
  std::function<void()> on_change_;

  std::map<std::filesystem::path, std::unique_ptr<Slot>> slots_;  // one per plugin file seen
  std::map<std::string, Wiring> handlers_;                         // by plugin name
  std::shared_ptr<LoadedPlugin> discovery_plugin_;                 // live discovery generation
  std::map<std::string, std::string> known_topics_;  // folded -> spelling; ever routed/configured
  std::optional<Clock::time_point> recheck_at_;
  std::string scan_problem_;  // last folder-level problem logged (logged once)
  std::atomic<int64_t> load_errors_{0};
};

}  // namespace outboxd

#endif  // OUTBOXD_RELOAD_PLUGIN_RELOADER_H_
