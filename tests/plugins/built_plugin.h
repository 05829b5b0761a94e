// Built plugins under test: dlopen a plugin .so and resolve its entry point, for tests that drive
// a built plugin through obx::testing::FakeHost. BuiltPluginPath("handler_exec") is
// $OBX_BUILD_DIR/plugins/handler_exec.so.
// The library stays loaded (never dlclose'd): a test process may reopen the same path many times
// and glibc hands back the same object anyway.
#ifndef OUTBOXD_TESTS_PLUGINS_BUILT_PLUGIN_H_
#define OUTBOXD_TESTS_PLUGINS_BUILT_PLUGIN_H_

#include <dlfcn.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "obx/plugin.h"
#include "obx/testing/fake_host.hpp"
#include "support/temp_dir.h"

namespace outboxd::testing {

inline std::filesystem::path BuiltPluginPath(const std::string& target) {
  return BuildDir() / "plugins" / (target + ".so");
}

// Opens `path` (RTLD_NOW | RTLD_LOCAL) and returns its obx_plugin_entry_v1. Throws with dlerror().
inline obx_plugin_entry_fn LoadPluginEntry(const std::filesystem::path& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    throw std::runtime_error("dlopen " + path.string() + ": " + (err != nullptr ? err : "?"));
  }
  void* sym = dlsym(handle, OBX_ENTRY_SYMBOL);
  if (sym == nullptr) throw std::runtime_error(path.string() + ": no " OBX_ENTRY_SYMBOL);
  return reinterpret_cast<obx_plugin_entry_fn>(sym);
}

// Loads a built-in plugin by target name and enters it with `host`.
inline const obx_plugin_descriptor* EnterBuiltPlugin(obx::testing::FakeHost& host,
                                                     const std::string& target) {
  return host.Enter(LoadPluginEntry(BuiltPluginPath(target)));
}

}  // namespace outboxd::testing

#endif  // OUTBOXD_TESTS_PLUGINS_BUILT_PLUGIN_H_
