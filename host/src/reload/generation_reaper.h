// GenerationReaper: where plugin generations go to be destroyed, on the control thread, once the
// last call that started on them has returned.
//
// Handler instances are published inside immutable routing tables that worker threads hold for
// the length of a batch, so the last reference to a retired generation may drop on any thread. An
// object handed to Adopt() is owned by a shared_ptr whose deleter does not delete it: it queues it
// here, and Reap() (control thread) destroys it, which runs the plugin's destroy callback where
// the SDK promises it runs. A generation that was replaced or removed is Track()ed; once nothing
// holds its LoadedPlugin any more (the library has been dlclose()d), Reap() asks glibc whether the
// object really went away (dlopen RTLD_NOLOAD on the staged path) and logs either
//   "Plugin 'x' 1.0.0 (generation 3) drained and unloaded" or
//   "Plugin 'x' 1.0.0 (generation 3) drained; glibc keeps its library mapped ..." (not an error).
//
// OWNERSHIP: must outlive every shared_ptr made by Adopt() (declare it before the routing state
// that holds them); its destructor destroys what is still queued.
// THREADING: the deleters run on any thread (a mutex guards the queue). Track, Reap and
// draining() belong to the control thread.
#ifndef OUTBOXD_RELOAD_GENERATION_REAPER_H_
#define OUTBOXD_RELOAD_GENERATION_REAPER_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "plugin/loaded_plugin.h"

namespace outboxd {

class GenerationReaper {
 public:
  GenerationReaper() = default;
  GenerationReaper(const GenerationReaper&) = delete;
  GenerationReaper& operator=(const GenerationReaper&) = delete;
  ~GenerationReaper();

  template <class T>
  std::shared_ptr<T> Adopt(std::unique_ptr<T> object) {
    return std::shared_ptr<T>(object.release(), [this](T* p) {
      Enqueue([p] { delete p; });
    });
  }

  // Reports on `plugin` once it is gone (see above). The caller drops its own references.
  void Track(const std::shared_ptr<LoadedPlugin>& plugin);

  // A tracked generation of exactly this content that is still alive (calls in flight), taken
  // off the list; nullptr when none. Loading the same bytes again would not give a new object:
  // glibc hands back the one still mapped, and running its entry point again would race with the
  // calls in flight. The caller puts the generation back into service instead.
  std::shared_ptr<LoadedPlugin> Revive(const std::string& sha256);

  // Destroys every queued object, then reports tracked generations that are gone. A staged path
  // in `live_paths` (the same content loaded again as a newer generation) is not checked: glibc
  // would rightly find it loaded. Returns the number of tracked generations still held.
  size_t Reap(const std::set<std::filesystem::path>& live_paths);

  // Tracked generations still held (by a batch in flight, typically).
  size_t draining() const { return tracked_.size(); }

 private:
  struct Tracked {
    std::weak_ptr<LoadedPlugin> plugin;
    std::string label;  // "'name' version (generation n)"
    std::filesystem::path staged_path;
    std::string sha256;
  };

  void Enqueue(std::function<void()> destroy);

  Mutex mu_;
  std::vector<std::function<void()>> queue_ GUARDED_BY(mu_);
  std::vector<Tracked> tracked_;              // control thread
};

// True when glibc still has the object loaded from `path` (dlopen with RTLD_NOLOAD).
bool LibraryStillLoaded(const std::filesystem::path& path);

}  // namespace outboxd

#endif  // OUTBOXD_RELOAD_GENERATION_REAPER_H_
