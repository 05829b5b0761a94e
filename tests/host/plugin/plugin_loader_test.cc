// LoadPlugin: staging, the ELF check, the entry call and every descriptor rejection, with the
// fixture plugins of tests/fixtures.
#include "plugin/plugin_loader.h"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "host/plugin/plugin_test_support.h"
#include "plugin/handler_instance.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

namespace fs = std::filesystem;
using plugin_testing::CopyFixture;
using plugin_testing::FixturePath;
using plugin_testing::MakeMessage;
using testing::TempDir;

std::string FileSha256(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Poco::SHA2Engine sha(Poco::SHA2Engine::SHA_256);
  sha.update(bytes.data(), bytes.size());
  return Poco::DigestEngine::digestToHex(sha.digest());
}

class PluginLoaderTest : public ::testing::Test {
 protected:
  PluginLoaderTest() { options_.staging_dir = staging_dir(); }

  fs::path plugin_dir() const { return dir_.path() / "plugins"; }
  fs::path staging_dir() const { return dir_.path() / "state" / "staging"; }

  void SetUp() override {
    ASSERT_TRUE(fs::exists(FixturePath("good_handler")))
        << "fixtures not built in " << FixturePath("");
    fs::create_directories(plugin_dir());
  }

  Status Load(const std::string& fixture, std::shared_ptr<LoadedPlugin>* out) {
    return LoadPlugin(CopyFixture(plugin_dir(), fixture), options_, out);
  }

  // Loads `file` and expects a rejection whose message is exactly `message` (one line).
  void ExpectRejected(const fs::path& file, Status::Code code, const std::string& message) {
    std::shared_ptr<LoadedPlugin> plugin;
    Status s = LoadPlugin(file, options_, &plugin);
    EXPECT_EQ(s.code(), code) << s.ToString();
    EXPECT_EQ(s.message(), message);
    EXPECT_EQ(s.message().find('\n'), std::string::npos);
    EXPECT_EQ(plugin, nullptr);
  }

  // Same, for messages with a variable tail (dlerror texts): checks the start.
  void ExpectRejectedStartingWith(const fs::path& file, const std::string& prefix) {
    std::shared_ptr<LoadedPlugin> plugin;
    Status s = LoadPlugin(file, options_, &plugin);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
    EXPECT_EQ(s.message().rfind(prefix, 0), 0u) << s.message();
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
    EXPECT_EQ(plugin, nullptr);
  }

  TempDir dir_;
  PluginLoadOptions options_;
};

TEST_F(PluginLoaderTest, LoadsAHandlerWrittenWithTheCxxLayer) {
  std::shared_ptr<LoadedPlugin> plugin;
  ASSERT_TRUE(Load("good_handler", &plugin).ok());
  EXPECT_EQ(plugin->name(), "good_handler");
  EXPECT_EQ(plugin->version(), "1.0.0");
  EXPECT_EQ(plugin->kinds(), OBX_KIND_HANDLER);
  EXPECT_TRUE(plugin->is_handler());
  EXPECT_FALSE(plugin->is_discovery());
  EXPECT_EQ(plugin->declared_topics(), (std::vector<std::string>{"fixture.good", "fixture.other"}));
  EXPECT_EQ(plugin->descriptor().magic, OBX_PLUGIN_MAGIC);
  ASSERT_NE(plugin->handler_vtable(), nullptr);
  EXPECT_EQ(plugin->discovery_vtable(), nullptr);
  EXPECT_EQ(plugin->source_path(), plugin_dir() / "good_handler.so");
}

TEST_F(PluginLoaderTest, LoadsAPlainCHandler) {
  std::shared_ptr<LoadedPlugin> plugin;
  ASSERT_TRUE(Load("good_c_handler", &plugin).ok());
  EXPECT_EQ(plugin->name(), "good_c_handler");
  EXPECT_EQ(plugin->version(), "0.3.0");
  EXPECT_EQ(plugin->description(), "plain C fixture");
  EXPECT_TRUE(plugin->declared_topics().empty());  // topics come from configuration
}

TEST_F(PluginLoaderTest, LoadsTheStagedCopyNotTheSource) {
  std::shared_ptr<LoadedPlugin> plugin;
  ASSERT_TRUE(Load("good_handler", &plugin).ok());
  const std::string sha = FileSha256(plugin_dir() / "good_handler.so");
  EXPECT_EQ(plugin->sha256(), sha);
  EXPECT_NE(plugin->staged_path(), plugin->source_path());
  EXPECT_EQ(plugin->staged_path().parent_path(), staging_dir());
  EXPECT_EQ(plugin->staged_path().filename(), "good_handler-" + sha.substr(0, 16) + ".so");
  // The copy is read-only and the staging folder private.
  EXPECT_EQ(fs::status(plugin->staged_path()).permissions(), fs::perms::owner_read);
  EXPECT_EQ(fs::status(staging_dir()).permissions(), fs::perms::owner_all);
  // The process maps the staged copy, never the drop-folder file.
  Dl_info info{};
  ASSERT_NE(dladdr(reinterpret_cast<const void*>(plugin->handler_vtable()->handle), &info), 0);
  EXPECT_EQ(fs::path(info.dli_fname), plugin->staged_path());
}

TEST_F(PluginLoaderTest, GenerationsIncrease) {
  std::shared_ptr<LoadedPlugin> a, b;
  ASSERT_TRUE(Load("good_handler", &a).ok());
  ASSERT_TRUE(Load("good_c_handler", &b).ok());
  EXPECT_GT(a->generation(), 0u);
  EXPECT_GT(b->generation(), a->generation());
}

// The glibc same-path trap (reference/plugins.md §2.2): a replaced file at the same path must load
// as new code. Both generations stay alive side by side and each runs its own code.
TEST_F(PluginLoaderTest, ReplacedSourceFileLoadsTheNewCode) {
  const fs::path source = CopyFixture(plugin_dir(), "good_handler", "handler.so");
  std::shared_ptr<LoadedPlugin> first;
  ASSERT_TRUE(LoadPlugin(source, options_, &first).ok());
  ASSERT_EQ(first->version(), "1.0.0");

  CopyFixture(plugin_dir(), "good_handler_v2", "handler.so");  // same path, new content
  std::shared_ptr<LoadedPlugin> second;
  ASSERT_TRUE(LoadPlugin(source, options_, &second).ok());
  EXPECT_EQ(second->version(), "2.0.0");
  EXPECT_EQ(second->source_path(), first->source_path());
  EXPECT_NE(second->staged_path(), first->staged_path());
  EXPECT_NE(second->sha256(), first->sha256());
  EXPECT_EQ(first->version(), "1.0.0");

  std::shared_ptr<HandlerInstance> old_instance, new_instance;
  ASSERT_TRUE(HandlerInstance::Create(first, "{}", &old_instance).ok());
  ASSERT_TRUE(HandlerInstance::Create(second, "{}", &new_instance).ok());
  EXPECT_EQ(old_instance->Handle(MakeMessage("version"), "t").error, "1.0.0");
  EXPECT_EQ(new_instance->Handle(MakeMessage("version"), "t").error, "2.0.0");
}

// Documents the trap the staging avoids: dlopen() of a replaced file at a path glibc has already
// loaded returns the old object.
TEST_F(PluginLoaderTest, GlibcReusesTheObjectLoadedFromTheSamePath) {
  const fs::path path = CopyFixture(plugin_dir(), "good_handler", "raw.so");
  void* first = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(first, nullptr) << dlerror();
  fs::remove(path);
  CopyFixture(plugin_dir(), "good_handler_v2", "raw.so");  // new inode, same path
  void* second = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  EXPECT_EQ(second, first);
  if (second != nullptr) dlclose(second);
  dlclose(first);
}

TEST_F(PluginLoaderTest, SameContentSharesOneStagedFileUntilTheLastUserGoes) {
  std::shared_ptr<LoadedPlugin> a, b;
  ASSERT_TRUE(Load("good_handler", &a).ok());
  ASSERT_TRUE(Load("good_handler", &b).ok());
  EXPECT_EQ(a->staged_path(), b->staged_path());
  EXPECT_NE(a->generation(), b->generation());
  const fs::path staged = a->staged_path();
  a.reset();
  EXPECT_TRUE(fs::exists(staged));
  b.reset();
  EXPECT_FALSE(fs::exists(staged));
  // No temporary files are left behind either.
  EXPECT_TRUE(fs::is_empty(staging_dir()));
}

TEST_F(PluginLoaderTest, StrippedPluginStillLoads) {
  const fs::path file = CopyFixture(plugin_dir(), "good_c_handler", "stripped.so");
  const std::string command = "strip --strip-all '" + file.string() + "' 2>/dev/null";
  if (std::system(command.c_str()) != 0) GTEST_SKIP() << "strip is not available";
  std::shared_ptr<LoadedPlugin> plugin;
  Status s = LoadPlugin(file, options_, &plugin);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(plugin->name(), "good_c_handler");
}

TEST_F(PluginLoaderTest, RejectsAnotherAbiMajor) {
  ExpectRejected(CopyFixture(plugin_dir(), "wrong_major"), Status::Code::kInvalidArgument,
                 "plugin 'wrong_major.so' rejected: ABI major 2, host speaks 1");
}

TEST_F(PluginLoaderTest, RejectsAFutureMinor) {
  ExpectRejected(CopyFixture(plugin_dir(), "future_minor"), Status::Code::kInvalidArgument,
                 "plugin 'future_minor.so' rejected: needs ABI 1.1, host speaks 1.0");
}

TEST_F(PluginLoaderTest, RejectsABadMagic) {
  ExpectRejected(
      CopyFixture(plugin_dir(), "bad_magic"), Status::Code::kInvalidArgument,
      "plugin 'bad_magic.so' rejected: bad descriptor magic 0xDEADBEEF, expected 0x4C504258");
}

TEST_F(PluginLoaderTest, RejectsAFileWithoutTheEntrySymbol) {
  ExpectRejected(CopyFixture(plugin_dir(), "missing_entry"), Status::Code::kInvalidArgument,
                 "plugin 'missing_entry.so' rejected: does not export obx_plugin_entry_v1 (not an "
                 "outboxd plugin, or built for another ABI major)");
}

TEST_F(PluginLoaderTest, RejectsAThrowingEntryPoint) {
  ExpectRejected(
      CopyFixture(plugin_dir(), "throwing_entry"), Status::Code::kInvalidArgument,
      "plugin 'throwing_entry.so' rejected: entry point threw an exception: entry exploded");
}

TEST_F(PluginLoaderTest, RejectsAFileThatIsNotElf) {
  const fs::path garbage = plugin_dir() / "not_elf.so";
  std::ofstream(garbage) << "this is not an ELF file, just some text pretending to be one\n";
  ExpectRejectedStartingWith(garbage, "plugin 'not_elf.so' rejected: not an ELF shared object");
}

TEST_F(PluginLoaderTest, RejectsEmptyAndTruncatedFiles) {
  const fs::path empty = plugin_dir() / "empty.so";
  std::ofstream(empty).close();
  ExpectRejectedStartingWith(empty, "plugin 'empty.so' rejected: not an ELF shared object");

  std::ifstream in(FixturePath("good_handler"), std::ios::binary);
  std::string head(512, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  const fs::path truncated = plugin_dir() / "truncated.so";
  std::ofstream(truncated, std::ios::binary) << head;
  ExpectRejectedStartingWith(truncated, "plugin 'truncated.so' rejected: ");
}

TEST_F(PluginLoaderTest, MissingFileIsNotFound) {
  ExpectRejected(plugin_dir() / "absent.so", Status::Code::kNotFound,
                 "plugin 'absent.so' rejected: file not found");
}

TEST_F(PluginLoaderTest, DirectoryIsNotAPlugin) {
  fs::create_directories(plugin_dir() / "dir.so");
  ExpectRejected(plugin_dir() / "dir.so", Status::Code::kInvalidArgument,
                 "plugin 'dir.so' rejected: not a regular file");
}

TEST_F(PluginLoaderTest, RejectionLeavesOutputUntouched) {
  std::shared_ptr<LoadedPlugin> good;
  ASSERT_TRUE(Load("good_handler", &good).ok());
  std::shared_ptr<LoadedPlugin> out = good;
  EXPECT_FALSE(Load("wrong_major", &out).ok());
  EXPECT_EQ(out, good);
}

TEST_F(PluginLoaderTest, RefusesAMissingOrSharedStagingDir) {
  PluginLoadOptions none;
  std::shared_ptr<LoadedPlugin> plugin;
  Status s = LoadPlugin(CopyFixture(plugin_dir(), "good_handler"), none, &plugin);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no plugin staging directory"), std::string::npos) << s.message();

  PluginLoadOptions shared;
  shared.staging_dir = dir_.path() / "shared";
  fs::create_directories(shared.staging_dir);
  fs::permissions(shared.staging_dir, fs::perms::all);  // 0777
  s = LoadPlugin(CopyFixture(plugin_dir(), "good_handler"), shared, &plugin);
  EXPECT_EQ(s.code(), Status::Code::kIoError);
  EXPECT_NE(s.message().find("writable by group or others"), std::string::npos) << s.message();
  EXPECT_EQ(plugin, nullptr);
}

}  // namespace
}  // namespace outboxd
