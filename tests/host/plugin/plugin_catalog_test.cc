// PluginCatalog::LoadDirectory: a folder with good, bad, hidden and temporary files.
#include "plugin/plugin_catalog.h"

#include <gtest/gtest.h>

#include <fstream>

#include "host/plugin/plugin_test_support.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

namespace fs = std::filesystem;
using plugin_testing::CopyFixture;
using plugin_testing::LogCapture;
using testing::TempDir;

class PluginCatalogTest : public ::testing::Test {
 protected:
  PluginCatalogTest() { options_.staging_dir = dir_.path() / "staging"; }
  void SetUp() override { fs::create_directories(plugin_dir()); }

  fs::path plugin_dir() const { return dir_.path() / "plugins"; }

  std::vector<std::string> Names(const PluginCatalog& catalog) const {
    std::vector<std::string> names;
    for (const auto& p : catalog.plugins()) names.push_back(p->name());
    return names;
  }

  TempDir dir_;
  PluginLoadOptions options_;
};

TEST_F(PluginCatalogTest, LoadsEveryGoodPluginWhenSomeFilesAreBad) {
  CopyFixture(plugin_dir(), "good_handler", "30-good.so");
  CopyFixture(plugin_dir(), "good_c_handler", "10-c.so");
  CopyFixture(plugin_dir(), "discovery_fixture", "50-discovery.so");
  CopyFixture(plugin_dir(), "wrong_major", "20-wrong.so");
  CopyFixture(plugin_dir(), "throwing_entry", "40-throwing.so");
  std::ofstream(plugin_dir() / "45-not_elf.so") << "garbage";

  LogCapture log;
  PluginCatalog catalog;
  ASSERT_TRUE(PluginCatalog::LoadDirectory(plugin_dir(), options_, &catalog).ok());
  // File-name order.
  EXPECT_EQ(Names(catalog),
            (std::vector<std::string>{"good_c_handler", "good_handler", "discovery_fixture"}));
  ASSERT_EQ(catalog.rejected().size(), 3u);
  EXPECT_EQ(catalog.rejected()[0], "plugin '20-wrong.so' rejected: ABI major 2, host speaks 1");
  EXPECT_EQ(catalog.rejected()[1].rfind("plugin '40-throwing.so' rejected: entry point threw", 0),
            0u);
  EXPECT_EQ(catalog.rejected()[2].rfind("plugin '45-not_elf.so' rejected: not an ELF", 0), 0u);
  // Each rejection is one error line in the log.
  for (const std::string& reason : catalog.rejected()) {
    EXPECT_EQ(plugin_testing::Matching(log, reason).size(), 1u) << reason;
    EXPECT_EQ(plugin_testing::Matching(log, reason)[0].rfind("error ", 0), 0u);
  }

  ASSERT_NE(catalog.Find("good_handler"), nullptr);
  EXPECT_EQ(catalog.Find("good_handler")->source_path(), plugin_dir() / "30-good.so");
  EXPECT_TRUE(catalog.Find("discovery_fixture")->is_discovery());
  EXPECT_EQ(catalog.Find("wrong_major"), nullptr);
  EXPECT_EQ(catalog.Find("absent"), nullptr);
}

TEST_F(PluginCatalogTest, SkipsDotFilesTemporaryFilesAndOtherNames) {
  CopyFixture(plugin_dir(), "good_c_handler", "c.so");
  // Each of these would be rejected if it were looked at.
  CopyFixture(plugin_dir(), "throwing_entry", ".hidden.so");
  CopyFixture(plugin_dir(), "throwing_entry", "incoming.so.tmp");
  CopyFixture(plugin_dir(), "throwing_entry", "incoming.tmp");
  CopyFixture(plugin_dir(), "throwing_entry", "notes.txt");
  CopyFixture(plugin_dir(), "throwing_entry", "versioned.so.1");
  fs::create_directories(plugin_dir() / "folder.so");

  PluginCatalog catalog;
  ASSERT_TRUE(PluginCatalog::LoadDirectory(plugin_dir(), options_, &catalog).ok());
  EXPECT_EQ(Names(catalog), (std::vector<std::string>{"good_c_handler"}));
  EXPECT_TRUE(catalog.rejected().empty()) << catalog.rejected()[0];
}

TEST_F(PluginCatalogTest, FollowsSymlinksToPlugins) {
  const fs::path real = CopyFixture(dir_.path(), "good_c_handler", "elsewhere.so");
  fs::create_symlink(real, plugin_dir() / "linked.so");
  PluginCatalog catalog;
  ASSERT_TRUE(PluginCatalog::LoadDirectory(plugin_dir(), options_, &catalog).ok());
  EXPECT_EQ(Names(catalog), (std::vector<std::string>{"good_c_handler"}));
}

TEST_F(PluginCatalogTest, RejectsADuplicateName) {
  CopyFixture(plugin_dir(), "good_handler", "a.so");
  CopyFixture(plugin_dir(), "good_handler_v2", "b.so");
  PluginCatalog catalog;
  ASSERT_TRUE(PluginCatalog::LoadDirectory(plugin_dir(), options_, &catalog).ok());
  ASSERT_EQ(catalog.plugins().size(), 1u);
  EXPECT_EQ(catalog.Find("good_handler")->version(), "1.0.0");  // the first file wins
  EXPECT_EQ(catalog.rejected(),
            (std::vector<std::string>{"plugin 'b.so' rejected: duplicate plugin name "
                                      "'good_handler' (already loaded from a.so)"}));
}

TEST_F(PluginCatalogTest, EmptyFolderIsFine) {
  PluginCatalog catalog;
  ASSERT_TRUE(PluginCatalog::LoadDirectory(plugin_dir(), options_, &catalog).ok());
  EXPECT_TRUE(catalog.plugins().empty());
  EXPECT_TRUE(catalog.rejected().empty());
}

TEST_F(PluginCatalogTest, UnreadableFolderIsAnErrorAndLeavesTheCatalogAlone) {
  CopyFixture(plugin_dir(), "good_c_handler", "c.so");
  PluginCatalog catalog;
  ASSERT_TRUE(PluginCatalog::LoadDirectory(plugin_dir(), options_, &catalog).ok());

  Status s = PluginCatalog::LoadDirectory(dir_.path() / "absent", options_, &catalog);
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_NE(s.message().find("absent"), std::string::npos);
  const fs::path file = dir_.path() / "file";
  std::ofstream(file) << "x";
  s = PluginCatalog::LoadDirectory(file, options_, &catalog);
  EXPECT_EQ(s.code(), Status::Code::kIoError);
  EXPECT_NE(catalog.Find("good_c_handler"), nullptr);
}

TEST_F(PluginCatalogTest, ReloadingAFolderReplacesTheCatalog) {
  CopyFixture(plugin_dir(), "good_c_handler", "c.so");
  PluginCatalog catalog;
  ASSERT_TRUE(PluginCatalog::LoadDirectory(plugin_dir(), options_, &catalog).ok());
  std::shared_ptr<LoadedPlugin> old_c = catalog.Find("good_c_handler");
  fs::remove(plugin_dir() / "c.so");
  CopyFixture(plugin_dir(), "good_handler", "g.so");
  ASSERT_TRUE(PluginCatalog::LoadDirectory(plugin_dir(), options_, &catalog).ok());
  EXPECT_EQ(Names(catalog), (std::vector<std::string>{"good_handler"}));
  EXPECT_EQ(catalog.Find("good_c_handler"), nullptr);
  EXPECT_EQ(old_c->name(), "good_c_handler");  // a holder keeps the old generation usable
}

}  // namespace
}  // namespace outboxd
