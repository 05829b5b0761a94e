#include "reload/generation_reaper.h"

#include <dlfcn.h>
#include <spdlog/spdlog.h>

#include <utility>

namespace outboxd {

bool LibraryStillLoaded(const std::filesystem::path& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  dlclose(handle);  // NOLOAD took a reference when it found the object
  return true;
}

GenerationReaper::~GenerationReaper() {
  std::vector<std::function<void()>> queue;
  {
    MutexLock lock(&mu_);
    queue.swap(queue_);
  }
  for (auto& destroy : queue) destroy();
}

void GenerationReaper::Enqueue(std::function<void()> destroy) {
  MutexLock lock(&mu_);
  queue_.push_back(std::move(destroy));
}

void GenerationReaper::Track(const std::shared_ptr<LoadedPlugin>& plugin) {
  if (!plugin) return;
  Tracked t;
  t.plugin = plugin;
  t.label = "'" + plugin->name() + "' " + plugin->version() + " (generation " +
            std::to_string(plugin->generation()) + ")";
  t.staged_path = plugin->staged_path();
  t.sha256 = plugin->sha256();
  tracked_.push_back(std::move(t));
}

std::shared_ptr<LoadedPlugin> GenerationReaper::Revive(const std::string& sha256) {
  for (auto it = tracked_.begin(); it != tracked_.end(); ++it) {
    if (it->sha256 != sha256) continue;
    std::shared_ptr<LoadedPlugin> alive = it->plugin.lock();
    if (!alive) continue;
    tracked_.erase(it);
    return alive;
  }
  return nullptr;
}

size_t GenerationReaper::Reap(const std::set<std::filesystem::path>& live_paths) {
  for (;;) {  // destroying one object may release another that queues itself
    std::vector<std::function<void()>> queue;
    {
      MutexLock lock(&mu_);
      queue.swap(queue_);
    }
    if (queue.empty()) break;
    for (auto& destroy : queue) destroy();
  }
  std::vector<Tracked> still_held;
  for (Tracked& t : tracked_) {
    if (!t.plugin.expired()) {
      still_held.push_back(std::move(t));
      continue;
    }
    if (live_paths.count(t.staged_path) > 0) {
      spdlog::info("Plugin {} drained (its content is loaded again as a newer generation)",
                   t.label);
    } else if (LibraryStillLoaded(t.staged_path)) {
      spdlog::warn("Plugin {} drained; glibc keeps its library mapped (unique symbols, "
                   "thread_local destructors or NODELETE): it stays in memory, never called again",
                   t.label);
    } else {
      spdlog::info("Plugin {} drained and unloaded", t.label);
    }
  }
  tracked_ = std::move(still_held);
  return tracked_.size();
}

}  // namespace outboxd
