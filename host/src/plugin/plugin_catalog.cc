#include "plugin/plugin_catalog.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <system_error>
#include <utility>

namespace outboxd {
namespace {

namespace fs = std::filesystem;

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool IsCandidate(const fs::directory_entry& entry) {
  const std::string name = entry.path().filename().string();
  if (name.empty() || name[0] == '.' || EndsWith(name, ".tmp") || !EndsWith(name, ".so")) {
    return false;
  }
  std::error_code ec;
  return entry.is_regular_file(ec);  // follows symlinks
}

// The candidate files of `dir`, sorted by file name.
Status ListCandidates(const fs::path& dir, std::vector<fs::path>* files) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (!fs::exists(st)) return Status::NotFound("plugin folder " + dir.string() + " does not exist");
  if (!fs::is_directory(st)) {
    return Status::IoError("plugin folder " + dir.string() + " is not a directory");
  }
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (IsCandidate(*it)) files->push_back(it->path());
  }
  if (ec) return Status::IoError("cannot read plugin folder " + dir.string() + ": " + ec.message());
  std::sort(files->begin(), files->end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  return Status::OK();
}

}  // namespace

Status PluginCatalog::LoadDirectory(const fs::path& dir, const PluginLoadOptions& options,
                                    PluginCatalog* out) {
  std::vector<fs::path> files;
  OBX_RETURN_IF_ERROR(ListCandidates(dir, &files));
  PluginCatalog catalog;
  for (const fs::path& file : files) {
    std::shared_ptr<LoadedPlugin> plugin;
    Status status = LoadPlugin(file, options, &plugin);
    if (status.ok()) {
      auto existing = catalog.by_name_.find(plugin->name());
      if (existing == catalog.by_name_.end()) {
        catalog.by_name_.emplace(plugin->name(), plugin);
        catalog.plugins_.push_back(std::move(plugin));
        continue;
      }
      status = Status::InvalidArgument("plugin '" + file.filename().string() +
                                       "' rejected: duplicate plugin name '" + plugin->name() +
                                       "' (already loaded from " +
                                       existing->second->source_path().filename().string() + ")");
    }
    spdlog::error("{}", status.message());
    catalog.rejected_.push_back(status.message());
  }
  spdlog::info("plugin folder {}: {} loaded, {} rejected", dir.string(), catalog.plugins_.size(),
               catalog.rejected_.size());
  *out = std::move(catalog);
  return Status::OK();
}

std::shared_ptr<LoadedPlugin> PluginCatalog::Find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

}  // namespace outboxd
