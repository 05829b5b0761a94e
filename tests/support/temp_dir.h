// TempDir: a private temporary folder for one test, removed with everything in it at destruction.
// Tests never share paths: every SQLite file, plugin folder and config lives in its own TempDir.
#ifndef OUTBOXD_TESTS_SUPPORT_TEMP_DIR_H_
#define OUTBOXD_TESTS_SUPPORT_TEMP_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace outboxd::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "obx-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  // Writes `content` to <dir>/<name> and returns the full path.
  std::filesystem::path WriteFile(const std::string& name, const std::string& content) const {
    std::filesystem::path p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

 private:
  std::filesystem::path path_;
};

// Build-tree locations exported to tests by CMake (OBX_BUILD_DIR / OBX_SOURCE_DIR).
#ifndef OBX_TEST_BUILD_DIR
#define OBX_TEST_BUILD_DIR ""
#endif
#ifndef OBX_TEST_SOURCE_DIR
#define OBX_TEST_SOURCE_DIR ""
#endif
inline std::filesystem::path BuildDir() {
  const char* v = getenv("OBX_BUILD_DIR");
  return std::filesystem::path(v != nullptr && *v != '\0' ? v : OBX_TEST_BUILD_DIR);
}
inline std::filesystem::path SourceDir() {
  const char* v = getenv("OBX_SOURCE_DIR");
  return std::filesystem::path(v != nullptr && *v != '\0' ? v : OBX_TEST_SOURCE_DIR);
}

}  // namespace outboxd::testing

#endif  // OUTBOXD_TESTS_SUPPORT_TEMP_DIR_H_
