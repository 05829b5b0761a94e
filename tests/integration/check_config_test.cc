// Issue 10, done-when 3: `outboxd --check-config FILE` exits 0 on the README's example (its paths
// pointed at this build) and prints a summary, and exits 2 on each broken variant with the same
// one-line error as a normal start. Also: a port that cannot be bound stops a normal start with
// exit 2 naming http.listen.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "integration/support/outbox_env.h"
#include "integration/support/process.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

using testing::RunProgram;
using testing::RunResult;
using testing::TempDir;

// The README's configuration example (the first ```json block after "## Configuration").
nlohmann::json ReadmeExample() {
  // FixturePath is <source>/tests/integration/fixtures/<name>.
  const std::filesystem::path root =
      testing::FixturePath("x").parent_path().parent_path().parent_path().parent_path();
  const std::string readme = testing::ReadText(root / "README.md");
  const size_t section = readme.find("## Configuration");
  const size_t start = readme.find("```json", section);
  const size_t end = readme.find("```", start + 7);
  if (section == std::string::npos || start == std::string::npos || end == std::string::npos) {
    ADD_FAILURE() << "README.md has no JSON example under ## Configuration";
    return nlohmann::json::object();
  }
  return nlohmann::json::parse(readme.substr(start + 7, end - start - 7));
}

// The "outboxd: ..." line of stderr (the one-line error), or "".
std::string ErrorLine(const std::string& err) {
  for (const std::string& line : testing::SplitLines(err)) {
    if (line.rfind("outboxd: ", 0) == 0) return line;
  }
  return "";
}

class CheckConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::BinariesBuilt());
    global_db_ = dir_ / "global.db";
    testing::CreateCustomersTable(global_db_);
    testing::AddCustomer(global_db_, "customer-001", "One", testing::SqliteConnection(dir_ / "c1.db"));
    testing::AddCustomer(global_db_, "customer-002", "Two", testing::SqliteConnection(dir_ / "c2.db"));
  }

  // The README example with its paths pointed at this build and test folder.
  nlohmann::json Example() {
    nlohmann::json config = ReadmeExample();
    config["plugin_dir"] = testing::PluginDir().string();
    config["discovery"]["config"]["connection"] = testing::SqliteConnection(global_db_);
    // The exec plugin checks that its command is an executable file.
    const std::filesystem::path command = dir_.WriteFile("send-email", "#!/bin/sh\nexit 0\n");
    std::filesystem::permissions(command, std::filesystem::perms::owner_all);
    config["handlers"][0]["config"]["command"][0] = command.string();
    return config;
  }

  RunResult Run(const std::vector<std::string>& args) {
    return RunProgram(testing::OutboxdBinary(), args, dir_.path(), std::chrono::milliseconds(30000));
  }

  TempDir dir_;
  std::filesystem::path global_db_;
};

TEST_F(CheckConfigTest, TheReadmeExamplePassesWithASummary) {
  const std::filesystem::path config = testing::WriteConfig(dir_, Example());
  RunResult r = Run({"--check-config", config.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("configuration OK"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("exec"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("email.send -> "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tenants: 2 "), std::string::npos) << r.out;

  RunResult skipped = Run({"--check-config", config.string(), "--no-discovery"});
  EXPECT_EQ(skipped.exit_code, 0) << skipped.err;
  EXPECT_NE(skipped.out.find("not discovered (--no-discovery)"), std::string::npos) << skipped.out;
}

TEST_F(CheckConfigTest, EachBrokenVariantExits2WithTheSameLineAsANormalStart) {
  const std::vector<std::pair<std::string, std::function<void(nlohmann::json*)>>> variants = {
      {"unknown key", [](nlohmann::json* c) { (*c)["bogus"] = 1; }},
      {"bad batch_size", [](nlohmann::json* c) { (*c)["dispatch"]["batch_size"] = "abc"; }},
      // A folder that is not there. (Not the key left out: its default, /usr/lib/outboxd/plugins,
      // exists while the .deb package is installed, e.g. by tests/packaging in the same ctest run.)
      {"missing plugin_dir",
       [this](nlohmann::json* c) { (*c)["plugin_dir"] = (dir_ / "no-such-plugins").string(); }},
      {"unknown handler plugin", [](nlohmann::json* c) { (*c)["handlers"][0]["plugin"] = "nope"; }},
      {"unknown discovery plugin", [](nlohmann::json* c) { (*c)["discovery"]["plugin"] = "nope"; }},
      {"bad http.listen", [](nlohmann::json* c) { (*c)["http"] = {{"listen", "localhost"}}; }},
      {"bad log_format", [](nlohmann::json* c) { (*c)["log_format"] = "xml"; }},
  };
  for (const auto& [name, mutate] : variants) {
    nlohmann::json config = Example();
    mutate(&config);
    const std::filesystem::path file = testing::WriteConfig(dir_, config, "broken.json");
    RunResult check = Run({"--check-config", file.string()});
    RunResult start = Run({"--config", file.string()});
    EXPECT_EQ(check.exit_code, 2) << name << ": " << check.err;
    EXPECT_EQ(start.exit_code, 2) << name << ": " << start.err;
    EXPECT_FALSE(ErrorLine(check.err).empty()) << name << ": " << check.err;
    EXPECT_EQ(ErrorLine(check.err), ErrorLine(start.err)) << name;
    EXPECT_EQ(testing::CountOccurrences(check.err, "outboxd: "), 1) << name << ": one line";
  }
}

TEST_F(CheckConfigTest, AFailingDiscoveryExits2UnlessSkipped) {
  nlohmann::json config = Example();
  config["discovery"]["config"]["connection"] = testing::SqliteConnection(dir_ / "absent.db");
  const std::filesystem::path file = testing::WriteConfig(dir_, config);
  RunResult r = Run({"--check-config", file.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(ErrorLine(r.err).find("discovery"), std::string::npos) << r.err;
  EXPECT_EQ(Run({"--check-config", file.string(), "--no-discovery"}).exit_code, 0);
}

TEST_F(CheckConfigTest, APortThatCannotBeBoundStopsTheStartWithExit2) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  nlohmann::json config = Example();
  config["http"] = {{"listen", "127.0.0.1:" + std::to_string(port)}};
  RunResult r = Run({"--config", testing::WriteConfig(dir_, config).string()});
  ::close(fd);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(ErrorLine(r.err).find("http.listen: cannot listen on 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace outboxd
