// SDK install test: `cmake --install` of the build tree's sdk component into a temporary prefix,
// then the samples configured and built out of tree against that prefix alone (CMAKE_PREFIX_PATH),
// then the built .so loaded with dlopen and driven through obx::testing::FakeHost. Proves the
// installed headers, the outboxd-sdk package, its version check and outboxd_add_plugin() work for a
// plugin author who has nothing but the SDK. Needs cmake, a compiler, nlohmann_json and SQLiteCpp.
#include <Poco/Data/SQLite/SessionImpl.h>
#include <Poco/Data/Session.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "plugins/built_plugin.h"
#include "support/temp_dir.h"

namespace outboxd::testing {
namespace {

namespace fs = std::filesystem;
using obx::testing::FakeHost;
using obx::testing::FakeMessage;

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout + stderr
};

// Runs a shell command line, capturing its combined output.
CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string Quote(const fs::path& p) { return "'" + p.string() + "'"; }

class SdkInstallTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = new TempDir();
    prefix_ = work_->path() / "prefix";
    install_ = RunCommand("cmake --install " + Quote(BuildDir()) + " --component sdk --prefix " +
                          Quote(prefix_));
  }
  static void TearDownTestSuite() {
    delete work_;
    work_ = nullptr;
  }

  void SetUp() override { ASSERT_EQ(install_.exit_code, 0) << install_.output; }

  // Configures and builds an out-of-tree project; returns its build directory.
  static fs::path BuildProject(const fs::path& source, const std::string& name) {
    const fs::path build = work_->path() / ("build-" + name);
    CommandResult configure =
        RunCommand("cmake -S " + Quote(source) + " -B " + Quote(build) +
                   " -DCMAKE_PREFIX_PATH=" + Quote(prefix_) +
                   " -DCMAKE_BUILD_TYPE=Release -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF");
    EXPECT_EQ(configure.exit_code, 0) << configure.output;
    CommandResult build_result = RunCommand("cmake --build " + Quote(build) + " -j2");
    EXPECT_EQ(build_result.exit_code, 0) << build_result.output;
    return build;
  }

  static TempDir* work_;
  static fs::path prefix_;
  static CommandResult install_;
};

TempDir* SdkInstallTest::work_ = nullptr;
fs::path SdkInstallTest::prefix_;
CommandResult SdkInstallTest::install_;

TEST_F(SdkInstallTest, InstallsHeadersPackageAndLinkerScript) {
  for (const char* rel :
       {"include/obx/plugin.h", "include/obx/types.h", "include/obx/host_api.h",
        "include/obx/handler.h", "include/obx/discovery.h", "include/obx/message.h",
        "include/obx/export.h", "include/obx/obx.h", "include/obx/cpp/plugin.hpp",
        "include/obx/testing/fake_host.hpp", "lib/cmake/outboxd-sdk/outboxd-sdkConfig.cmake",
        "lib/cmake/outboxd-sdk/outboxd-sdkConfigVersion.cmake",
        "lib/cmake/outboxd-sdk/outboxd-sdkTargets.cmake", "lib/cmake/outboxd-sdk/plugin.map"}) {
    EXPECT_TRUE(fs::is_regular_file(prefix_ / rel)) << rel;
  }
}

TEST_F(SdkInstallTest, PackageVersionIsTheAbiVersionWithSameMajorCompatibility) {
  const fs::path src = work_->path() / "version-probe";
  auto probe = [&](const std::string& version) {
    fs::create_directories(src);
    std::ofstream(src / "CMakeLists.txt")
        << "cmake_minimum_required(VERSION 3.22)\nproject(probe LANGUAGES NONE)\n"
           "find_package(outboxd-sdk "
        << version
        << " REQUIRED)\n"
           "if(NOT COMMAND outboxd_add_plugin OR NOT TARGET outboxd::sdk)\n"
           "  message(FATAL_ERROR \"package incomplete\")\nendif()\n"
           "message(STATUS \"abi=${OUTBOXD_SDK_ABI_MAJOR}.${OUTBOXD_SDK_ABI_MINOR}\")\n";
    const fs::path build = work_->path() / ("build-probe-" + version);
    return RunCommand("cmake -S " + Quote(src) + " -B " + Quote(build) + " -DCMAKE_PREFIX_PATH=" +
                      Quote(prefix_) + " -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF");
  };
  CommandResult same_major = probe(std::to_string(OBX_ABI_MAJOR) + ".0");
  EXPECT_EQ(same_major.exit_code, 0) << same_major.output;
  EXPECT_NE(same_major.output.find("abi=" + std::to_string(OBX_ABI_MAJOR) + "." +
                                   std::to_string(OBX_ABI_MINOR)),
            std::string::npos)
      << same_major.output;
  CommandResult next_major = probe(std::to_string(OBX_ABI_MAJOR + 1) + ".0");
  EXPECT_NE(next_major.exit_code, 0) << next_major.output;
}

TEST_F(SdkInstallTest, SendEmailSampleBuildsOutOfTreeAndRuns) {
  const fs::path build = BuildProject(SourceDir() / "samples" / "handler_send_email", "send-email");
  const fs::path so = build / "handler_send_email.so";
  ASSERT_TRUE(fs::is_regular_file(so)) << so;

  // Only the entry symbol leaves the .so.
  CommandResult nm = RunCommand("nm -D --defined-only " + Quote(so));
  ASSERT_EQ(nm.exit_code, 0) << nm.output;
  std::istringstream lines(nm.output);
  int exported = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    ++exported;
    EXPECT_NE(line.find(" T obx_plugin_entry_v1"), std::string::npos) << line;
  }
  EXPECT_EQ(exported, 1) << nm.output;

  FakeHost host;
  const obx_plugin_descriptor* d = host.Enter(LoadPluginEntry(so));
  EXPECT_STREQ(d->name, "send_email");
  EXPECT_EQ(d->kinds, OBX_KIND_HANDLER);
  EXPECT_EQ(d->abi_major, static_cast<uint32_t>(OBX_ABI_MAJOR));
  ASSERT_NE(d->topics, nullptr);
  EXPECT_STREQ(d->topics[0], "email.send");
  EXPECT_EQ(d->topics[1], nullptr);

  const fs::path outbox = work_->path() / "emails.jsonl";
  auto created = host.CreateHandler(d, nlohmann::json{{"file", outbox.string()}}.dump());
  ASSERT_TRUE(created.ok()) << created.error;
  FakeMessage m;
  m.topic = "email.send";
  m.message_id = "install-test-1";
  m.payload = R"({"to": "ops@example.com", "subject": "hello"})";
  auto ok = created.instance->Handle(m);
  EXPECT_EQ(ok.outcome, OBX_OUTCOME_OK) << ok.error;
  std::ifstream in(outbox);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(nlohmann::json::parse(line)["message_id"], "install-test-1");

  m.payload = R"({"subject": "nobody"})";
  EXPECT_EQ(created.instance->Handle(m).outcome, OBX_OUTCOME_PERMANENT_FAILURE);
}

TEST_F(SdkInstallTest, GlobalDbSampleBuildsOutOfTreeAndDiscovers) {
  const fs::path build = BuildProject(SourceDir() / "samples" / "discovery_global_db", "global-db");
  const fs::path so = build / "discovery_global_db.so";
  ASSERT_TRUE(fs::is_regular_file(so)) << so;

  const fs::path db = work_->path() / "global.db";
  {
    Poco::Data::Session s(
        Poco::AutoPtr<Poco::Data::SessionImpl>(new Poco::Data::SQLite::SessionImpl(db.string())));
    using Poco::Data::Keywords::now;
    s << "CREATE TABLE Customers (CustomerId NVARCHAR(100) PRIMARY KEY, CustomerName "
         "NVARCHAR(255) NOT NULL, ConnectionString NVARCHAR(1000) NOT NULL, IsActive BIT NOT NULL "
         "DEFAULT 1)",
        now;
    s << "INSERT INTO Customers VALUES ('customer-001', 'Acme', 'sqlite:/a.db', 1), "
         "('customer-002', 'Globex', 'sqlite:/g.db', 0), ('customer-003', 'Initech', "
         "'sqlite:/i.db', 1)",
        now;
  }

  FakeHost host;
  const obx_plugin_descriptor* d = host.Enter(LoadPluginEntry(so));
  EXPECT_STREQ(d->name, "global_db");
  EXPECT_EQ(d->kinds, OBX_KIND_DISCOVERY);
  auto created = host.CreateDiscovery(d, nlohmann::json{{"database", db.string()}}.dump());
  ASSERT_TRUE(created.ok()) << created.error;
  auto r = created.instance->Discover();
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].identifier, "customer-001");
  EXPECT_EQ(r.records[0].connection_string, "sqlite:/a.db");
  EXPECT_EQ(r.records[1].identifier, "customer-003");

  auto missing = host.CreateDiscovery(
      d, nlohmann::json{{"database", (work_->path() / "absent.db").string()}}.dump());
  ASSERT_TRUE(missing.ok()) << missing.error;
  EXPECT_EQ(missing.instance->Discover().status, OBX_STATUS_ERROR);
  EXPECT_FALSE(fs::exists(work_->path() / "absent.db"));
}

}  // namespace
}  // namespace outboxd::testing
