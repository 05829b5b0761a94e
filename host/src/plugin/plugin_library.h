// PluginLibrary: one shared object opened with dlopen, and the ELF check that runs before it. This
// is the only file that includes Boost.DLL, so its 1.74-vs-later naming (and a possible switch to
// raw dlopen) stays local.
//
// OWNERSHIP: a PluginLibrary owns its handle. The destructor asks for an unload (dlclose), which
// glibc may silently ignore (UNIQUE symbols, thread_local destructors, NODELETE): callers must not
// rely on the code going away, only on not calling it any more.
// THREADING: CheckExports is thread-safe. A PluginLibrary is immutable after Open; FindEntry may be
// called from any thread.
#ifndef OUTBOXD_PLUGIN_PLUGIN_LIBRARY_H_
#define OUTBOXD_PLUGIN_PLUGIN_LIBRARY_H_

#include <boost/dll/shared_library.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "common/status.h"
#include "obx/plugin.h"

namespace outboxd {

class PluginLibrary {
 public:
  // Reads `file` as an ELF object WITHOUT loading it (no plugin code runs) and checks that it is an
  // object for this machine that exports `symbol`. Looks at the symbol table (.symtab, through
  // boost::dll::library_info) and, since stripped objects have none, at the dynamic symbol table
  // (.dynsym). Returns InvalidArgument with a short reason ("not an ELF shared object: ...",
  // "does not export obx_plugin_entry_v1").
  static Status CheckExports(const std::filesystem::path& file, const std::string& symbol);

  // Loads `file` with RTLD_NOW | RTLD_LOCAL: unresolved symbols fail here, and nothing the plugin
  // defines leaks into the global namespace. Runs the object's ELF constructors. InvalidArgument
  // with the dlerror() text on failure.
  static Status Open(const std::filesystem::path& file, std::unique_ptr<PluginLibrary>* out);

  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;
  ~PluginLibrary();

  // Looks up OBX_ENTRY_SYMBOL. The pointer stays valid while this object lives.
  Status FindEntry(obx_plugin_entry_fn* out) const;

 private:
  explicit PluginLibrary(boost::dll::shared_library library);

  boost::dll::shared_library library_;
};

}  // namespace outboxd

#endif  // OUTBOXD_PLUGIN_PLUGIN_LIBRARY_H_
