// Helpers shared by the plugin host tests: where the fixture plugins are (tests/fixtures, built
// into <build>/test-plugins/), copying one into a test's private folder, and filtering captured log
// lines.
#ifndef OUTBOXD_TESTS_HOST_PLUGIN_PLUGIN_TEST_SUPPORT_H_
#define OUTBOXD_TESTS_HOST_PLUGIN_PLUGIN_TEST_SUPPORT_H_

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "common/status.h"
#include "plugin/loaded_plugin.h"
#include "plugin/plugin_loader.h"
#include "store/outbox_message.h"
#include "support/log_capture.h"

// A namespace of their own, so these inline helpers can never collide (ODR) with helpers of the
// same name that other suites add to outboxd::testing.
namespace outboxd::plugin_testing {

using testing::LogCapture;

// <build>/test-plugins: from OBX_BUILD_DIR (set by ctest) or else next to this test executable
// (<build>/tests/host_tests), so running the binary by hand from any folder works too.
inline std::filesystem::path TestPluginDir() {
  if (const char* build = std::getenv("OBX_BUILD_DIR"); build != nullptr && *build != '\0') {
    return std::filesystem::path(build) / "test-plugins";
  }
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return exe.parent_path().parent_path() / "test-plugins";
}

// The built fixture <name>.so.
inline std::filesystem::path FixturePath(const std::string& name) {
  return TestPluginDir() / (name + ".so");
}

// Copies fixture `name` into `dir` as `file_name` (default <name>.so), replacing what is there.
inline std::filesystem::path CopyFixture(const std::filesystem::path& dir, const std::string& name,
                                         const std::string& file_name = "") {
  const std::filesystem::path to = dir / (file_name.empty() ? name + ".so" : file_name);
  std::filesystem::copy_file(FixturePath(name), to,
                             std::filesystem::copy_options::overwrite_existing);
  return to;
}

// Copies fixture `name` into `plugin_dir` and loads it with staging under `staging_dir`.
inline Status LoadFixture(const std::filesystem::path& plugin_dir,
                          const std::filesystem::path& staging_dir, const std::string& name,
                          std::shared_ptr<LoadedPlugin>* out) {
  PluginLoadOptions options;
  options.staging_dir = staging_dir;
  return LoadPlugin(CopyFixture(plugin_dir, name), options, out);
}

// Lines of `log` (support/log_capture.h: "<level> <message>") that contain `text`.
inline std::vector<std::string> Matching(const LogCapture& log, const std::string& text) {
  std::vector<std::string> out;
  for (const std::string& line : log.Lines()) {
    if (line.find(text) != std::string::npos) out.push_back(line);
  }
  return out;
}

// A claimed message with the fields a handler sees.
inline OutboxMessage MakeMessage(const std::string& payload,
                                 const std::string& topic = "fixture.good") {
  OutboxMessage m;
  m.id = 42;
  m.message_id = "m-1";
  m.topic = topic;
  m.payload = payload;
  m.created_at_ms = 1700000000000;
  return m;
}

}  // namespace outboxd::plugin_testing

#endif  // OUTBOXD_TESTS_HOST_PLUGIN_PLUGIN_TEST_SUPPORT_H_
