// Issue 14, finding 19, through the real binary on both engines: dispatch.max_payload_bytes. A
// message whose payload is over the cap fails permanently at once, without a handler call and
// without an attempt counted ("payload of N bytes exceeds dispatch.max_payload_bytes (M)"); one at
// the cap is delivered. (Before: every payload was delivered, whatever its size.)
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "integration/support/outbox_env.h"
#include "integration/support/pg_env.h"
#include "integration/support/process.h"
#include "support/postgres_test_server.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

using std::chrono::milliseconds;
using testing::Outboxctl;
using testing::PgDatabases;
using testing::PgSession;
using testing::Process;
using testing::SqliteConnection;
using testing::SqliteFile;
using testing::TempDir;

constexpr milliseconds kWait{60000};
constexpr int kCap = 4096;
constexpr char kOverCapError[] = "payload of 5000 bytes exceeds dispatch.max_payload_bytes (4096)";

class PayloadCapTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::BinariesBuilt());
    const std::filesystem::path plugins = dir_ / "plugins";
    std::filesystem::create_directories(plugins);
    std::filesystem::copy_file(testing::PluginDir() / "discovery_static.so",
                               plugins / "discovery_static.so");
    std::filesystem::copy_file(testing::BuildDir() / "test-plugins" / "recording_handler.so",
                               plugins / "recording_handler.so");
    if (GetParam() == "sqlite") {
      connection_ = SqliteConnection(dir_ / "t1.db");
      ASSERT_TRUE(Outboxctl(dir_.path()).SchemaApply(connection_));
    } else {
      std::string url;
      OBX_REQUIRE_TEST_POSTGRES(&url);
      dbs_ = std::make_unique<PgDatabases>(url);
      connection_ = dbs_->Create("obx_payload_cap");
      ASSERT_FALSE(connection_.empty());
      PgSession s(connection_);
      ASSERT_TRUE(s.Exec(testing::kPgOutboxDdl));
    }
  }

  // Oldest first: {}, 4096 'a' (at the cap), 5000 'b' (over it), {} again.
  void InsertMessages() {
    const std::vector<std::string> payloads = {"{}", std::string(kCap, 'a'), std::string(5000, 'b'),
                                               "{}"};
    for (size_t i = 0; i < payloads.size(); ++i) {
      Exec("INSERT INTO " + Table() + " (topic, payload, message_id) VALUES ('fixture.record', '" +
           payloads[i] + "', 'm" + std::to_string(i) + "')");
    }
  }

  std::string Table() const { return GetParam() == "sqlite" ? "outbox" : "infra.outbox"; }

  void Exec(const std::string& sql) {
    if (GetParam() == "sqlite") {
      SqliteFile(dir_ / "t1.db").Exec(sql);
    } else {
      PgSession s(connection_);
      ASSERT_TRUE(s.Exec(sql));
    }
  }

  // message_id, status, attempts, last_error of every row, by message_id.
  std::vector<std::vector<std::string>> Rows() {
    const std::string sql = "SELECT message_id, status, attempts, COALESCE(last_error, '') FROM " +
                            Table() + " ORDER BY message_id";
    if (GetParam() == "sqlite") return SqliteFile(dir_ / "t1.db").Rows(sql);
    PgSession s(connection_);
    return s.Rows(sql);
  }

  TempDir dir_;
  std::unique_ptr<PgDatabases> dbs_;
  std::string connection_;
};

INSTANTIATE_TEST_SUITE_P(Engines, PayloadCapTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& engine) {
                           return engine.param;
                         });

TEST_P(PayloadCapTest, APayloadOverTheCapFailsPermanentlyWithoutAHandlerCall) {
  InsertMessages();
  const std::filesystem::path deliveries = dir_ / "deliveries.txt";
  const nlohmann::json config{
      {"plugin_dir", (dir_ / "plugins").string()},
      {"discovery",
       {{"plugin", "static"},
        {"config",
         {{"databases", nlohmann::json::array({{{"identifier", "t1"},
                                                {"connection_string", connection_}}})}}}}},
      {"dispatch", {{"poll_interval", "20ms"}, {"max_payload_bytes", kCap}}},
      {"handlers",
       {{{"plugin", "recording_handler"}, {"config", {{"file", deliveries.string()}}}}}}};
  std::unique_ptr<Process> p =
      testing::StartOutboxd(dir_, testing::WriteConfig(dir_, config), "outboxd", /*drain=*/true);
  ASSERT_TRUE(p->ok()) << p->error();
  std::optional<int> code = p->WaitExit(kWait);
  ASSERT_TRUE(code.has_value()) << p->StderrTail();
  EXPECT_EQ(*code, 0) << p->StderrTail();

  const std::vector<std::vector<std::string>> rows = Rows();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"m0", "2", "0", ""}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"m1", "2", "0", ""})) << "at the cap: delivered";
  EXPECT_EQ(rows[2], (std::vector<std::string>{"m2", "3", "0", kOverCapError}))
      << "over the cap: failed for good, not run, no attempt counted";
  EXPECT_EQ(rows[3], (std::vector<std::string>{"m3", "2", "0", ""}));
  const std::vector<testing::Delivery> delivered = testing::ReadDeliveries(deliveries);
  EXPECT_EQ(delivered.size(), 3u) << testing::ReadText(deliveries);
  for (const testing::Delivery& d : delivered) EXPECT_NE(d.message_id, "m2");
  EXPECT_NE(p->Stderr().find(kOverCapError), std::string::npos) << p->StderrTail();
}

}  // namespace
}  // namespace outboxd
