#include "plugin/loaded_plugin.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <utility>

#include "plugin/plugin_library.h"
#include "plugin/staged_file.h"

namespace outboxd {
namespace {

constexpr size_t kMaxDescriptionLength = 1024;  // longer descriptions are cut

uint64_t NextGeneration() {
  static std::atomic<uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

// Copies a plugin struct into a zeroed host struct, never reading past the plugin's struct_size
// (the struct only grows at the end, so the host may know less or more than the plugin).
template <class T>
void CopySized(const T* from, T* to) {
  *to = T{};
  if (from == nullptr) return;
  std::memcpy(to, from, std::min<size_t>(from->struct_size, sizeof(T)));
}

}  // namespace

LoadedPlugin::LoadedPlugin(std::unique_ptr<PluginLibrary> library,
                           std::shared_ptr<StagedFile> staged, std::filesystem::path source_path,
                           const obx_plugin_descriptor& descriptor)
    : staged_(std::move(staged)),
      library_(std::move(library)),
      source_path_(std::move(source_path)),
      generation_(NextGeneration()) {
  CopySized(&descriptor, &descriptor_);
  if (is_handler()) CopySized(descriptor.handler, &handler_);
  if (is_discovery()) CopySized(descriptor.discovery, &discovery_);
  name_ = descriptor.name;
  version_ = descriptor.version;
  if (descriptor.description != nullptr) {
    description_.assign(descriptor.description,
                        strnlen(descriptor.description, kMaxDescriptionLength));
  }
  if (is_handler() && descriptor.topics != nullptr) {
    for (const char* const* t = descriptor.topics; *t != nullptr; ++t) {
      declared_topics_.emplace_back(*t);
    }
  }
}

LoadedPlugin::~LoadedPlugin() = default;

const std::filesystem::path& LoadedPlugin::staged_path() const { return staged_->path(); }

const std::string& LoadedPlugin::sha256() const { return staged_->sha256(); }

}  // namespace outboxd
