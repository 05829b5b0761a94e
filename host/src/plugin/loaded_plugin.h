// LoadedPlugin: one loaded generation of one plugin file, after every check of the descriptor
// passed. It is what the rest of the host knows about a plugin: its identity (name, version, kinds,
// declared topics), where it came from (source_path, staged_path, sha256) and its vtables.
//
// OWNERSHIP: shared (std::shared_ptr). Every HandlerInstance / DiscoveryInstance made from it holds
// a reference, so the code stays mapped while any instance lives. Destruction asks for an unload
// (which glibc may ignore) and then deletes the staged copy once no other generation of the same
// content uses it.
// THREADING: immutable after construction; every accessor is safe from any thread.
#ifndef OUTBOXD_PLUGIN_LOADED_PLUGIN_H_
#define OUTBOXD_PLUGIN_LOADED_PLUGIN_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "obx/plugin.h"

namespace outboxd {

class PluginLibrary;
class StagedFile;

class LoadedPlugin {
 public:
  // Made by LoadPlugin() (plugin_loader.h) once CheckDescriptor(descriptor) passed. Copies what the
  // host needs out of `descriptor`, reading no further than the plugin's struct_size, and assigns
  // the next generation number.
  LoadedPlugin(std::unique_ptr<PluginLibrary> library, std::shared_ptr<StagedFile> staged,
               std::filesystem::path source_path, const obx_plugin_descriptor& descriptor);
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;
  ~LoadedPlugin();

  const std::string& name() const { return name_; }
  const std::string& version() const { return version_; }
  const std::string& description() const { return description_; }  // "" when none
  uint32_t kinds() const { return descriptor_.kinds; }
  bool is_handler() const { return (descriptor_.kinds & OBX_KIND_HANDLER) != 0; }
  bool is_discovery() const { return (descriptor_.kinds & OBX_KIND_DISCOVERY) != 0; }
  // Topics the plugin declares; empty: the topics come from the host configuration.
  const std::vector<std::string>& declared_topics() const { return declared_topics_; }
  // The file in plugin_dir.
  const std::filesystem::path& source_path() const { return source_path_; }
  // The private copy that was actually dlopen()ed.
  const std::filesystem::path& staged_path() const;
  // Lower-case hex SHA-256 of the loaded bytes.
  const std::string& sha256() const;
  // Process-unique, increasing with every LoadedPlugin made.
  uint64_t generation() const { return generation_; }
  // A host copy of the descriptor (fields past the plugin's struct_size zeroed). Its pointers point
  // into the plugin, valid while this object lives.
  const obx_plugin_descriptor& descriptor() const { return descriptor_; }
  // Host copies of the vtables; nullptr when the kind is not declared.
  const obx_handler_vtable* handler_vtable() const { return is_handler() ? &handler_ : nullptr; }
  const obx_discovery_vtable* discovery_vtable() const {
    return is_discovery() ? &discovery_ : nullptr;
  }

 private:
  // Declared before library_ so the library goes first, then the file it was mapped from.
  const std::shared_ptr<StagedFile> staged_;
  const std::unique_ptr<PluginLibrary> library_;
  const std::filesystem::path source_path_;
  const uint64_t generation_;
  obx_plugin_descriptor descriptor_{};
  obx_handler_vtable handler_{};
  obx_discovery_vtable discovery_{};
  std::string name_;
  std::string version_;
  std::string description_;
  std::vector<std::string> declared_topics_;
};

}  // namespace outboxd

#endif  // OUTBOXD_PLUGIN_LOADED_PLUGIN_H_
