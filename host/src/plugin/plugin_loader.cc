#include "plugin/plugin_loader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <string>
#include <utility>

#include "plugin/descriptor_check.h"
#include "plugin/host_api.h"
#include "plugin/plugin_library.h"
#include "plugin/staged_file.h"

namespace outboxd {
namespace {

std::string EntryStatusText(int32_t status) {
  switch (status) {
    case OBX_STATUS_ERROR:
      return "error";
    case OBX_STATUS_ABI_MISMATCH:
      return "ABI mismatch: the plugin does not speak host ABI " + std::to_string(OBX_ABI_MAJOR) +
             "." + std::to_string(OBX_ABI_MINOR);
    case OBX_STATUS_INVALID_ARGUMENT:
      return "invalid argument";
    default:
      return "unknown status";
  }
}

// Calls the entry point; no exception gets past this function.
Status CallEntry(obx_plugin_entry_fn entry, const obx_plugin_descriptor** descriptor) {
  int32_t rc = OBX_STATUS_ERROR;
  try {
    rc = entry(HostApi(), descriptor);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("entry point threw an exception: ") + e.what());
  } catch (...) {
    return Status::InvalidArgument("entry point threw an exception of unknown type");
  }
  if (rc != OBX_STATUS_OK) {
    return Status::InvalidArgument("entry point returned status " + std::to_string(rc) + " (" +
                                   EntryStatusText(rc) + ")");
  }
  if (*descriptor == nullptr) return Status::InvalidArgument("entry point returned no descriptor");
  return Status::OK();
}

Status Load(const std::filesystem::path& file, const PluginLoadOptions& options,
            std::shared_ptr<LoadedPlugin>* out) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(file, ec);
  if (!std::filesystem::exists(st)) return Status::NotFound("file not found");
  if (!std::filesystem::is_regular_file(st)) return Status::InvalidArgument("not a regular file");

  std::shared_ptr<StagedFile> staged;
  OBX_RETURN_IF_ERROR(StagedFile::Stage(file, options.staging_dir, &staged));
  const std::vector<std::string>& allow = options.sha256_allowlist;
  if (!allow.empty() && std::find(allow.begin(), allow.end(), staged->sha256()) == allow.end()) {
    return Status::InvalidArgument("sha256 " + staged->sha256() +
                                   " is not in plugin_sha256_allowlist");
  }
  OBX_RETURN_IF_ERROR(PluginLibrary::CheckExports(staged->path(), OBX_ENTRY_SYMBOL));
  std::unique_ptr<PluginLibrary> library;
  OBX_RETURN_IF_ERROR(PluginLibrary::Open(staged->path(), &library));
  obx_plugin_entry_fn entry = nullptr;
  OBX_RETURN_IF_ERROR(library->FindEntry(&entry));
  const obx_plugin_descriptor* descriptor = nullptr;
  OBX_RETURN_IF_ERROR(CallEntry(entry, &descriptor));
  OBX_RETURN_IF_ERROR(CheckDescriptor(*descriptor));
  *out = std::make_shared<LoadedPlugin>(std::move(library), std::move(staged), file, *descriptor);
  return Status::OK();
}

}  // namespace

Status LoadPlugin(const std::filesystem::path& file, const PluginLoadOptions& options,
                  std::shared_ptr<LoadedPlugin>* out) {
  std::shared_ptr<LoadedPlugin> plugin;
  Status status;
  try {
    status = Load(file, options, &plugin);
  } catch (const std::exception& e) {  // e.g. bad_alloc, filesystem_error: never a crash
    status = Status::Internal(std::string("unexpected error: ") + e.what());
  }
  if (!status.ok()) return status.WithContext("plugin '" + file.filename().string() + "' rejected");
  spdlog::info("loaded plugin '{}' {} from {} (staged as {}, sha256 {}, generation {})",
               plugin->name(), plugin->version(), file.string(),
               plugin->staged_path().filename().string(), plugin->sha256().substr(0, 16),
               plugin->generation());
  *out = std::move(plugin);
  return Status::OK();
}

}  // namespace outboxd
