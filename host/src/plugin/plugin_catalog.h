// PluginCatalog: the plugins loaded from one plugin folder (plugin_dir), by name.
//
// LoadDirectory loads every regular *.so file of the folder (symlinks to regular files included),
// in file-name order, skipping dot-files and *.tmp (files still being written; producers write
// ".name.so.tmp" and rename). A file that fails to load is logged (one line) and recorded in
// rejected(); the others still load. The first file to claim a plugin name wins; a later one is
// rejected as "duplicate plugin name 'x' (already loaded from a.so)".
//
// OWNERSHIP: the catalog holds a reference to every LoadedPlugin; callers may keep their own.
// THREADING: LoadDirectory runs plugin code (entry points): call it from the control thread. A
// built catalog is immutable; its const methods are safe from any thread.
#ifndef OUTBOXD_PLUGIN_PLUGIN_CATALOG_H_
#define OUTBOXD_PLUGIN_PLUGIN_CATALOG_H_

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "plugin/loaded_plugin.h"
#include "plugin/plugin_loader.h"

namespace outboxd {

class PluginCatalog {
 public:
  // Replaces *out with the plugins of `dir`. Returns NotFound/IoError only when the folder itself
  // cannot be read (then *out is untouched); rejected files are not an error.
  static Status LoadDirectory(const std::filesystem::path& dir, const PluginLoadOptions& options,
                              PluginCatalog* out);

  // nullptr when no plugin has that name.
  std::shared_ptr<LoadedPlugin> Find(const std::string& name) const;
  // In file-name order.
  const std::vector<std::shared_ptr<LoadedPlugin>>& plugins() const { return plugins_; }
  // One line per rejected file, in file-name order.
  const std::vector<std::string>& rejected() const { return rejected_; }

 private:
  std::vector<std::shared_ptr<LoadedPlugin>> plugins_;
  std::map<std::string, std::shared_ptr<LoadedPlugin>> by_name_;
  std::vector<std::string> rejected_;
};

}  // namespace outboxd

#endif  // OUTBOXD_PLUGIN_PLUGIN_CATALOG_H_
