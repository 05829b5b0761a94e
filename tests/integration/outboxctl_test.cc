// End-to-end tests of the outboxctl binary ($OBX_BUILD_DIR/bin/outboxctl) against SQLite files in
// a TempDir: what it prints on stdout and stderr, and its exit status.
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "store/outbox_store.h"
#include "support/temp_dir.h"

namespace outboxd {
namespace {

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ShellQuote(const std::string& arg) {
  std::string quoted = "'";
  for (char c : arg) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class OutboxctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = testing::BuildDir() / "bin" / "outboxctl";
    ASSERT_TRUE(std::filesystem::exists(binary_))
        << binary_ << " is missing: build the outboxctl target before integration_tests";
    db_ = (dir_ / "tenant.db").string();
    connection_ = "sqlite:" + db_;
  }

  // Runs outboxctl with `args`; `stdin_text`, when given, is piped to it.
  Result Run(const std::vector<std::string>& args, const std::string* stdin_text = nullptr) {
    std::string command;
    if (stdin_text != nullptr) {
      std::filesystem::path input = dir_.WriteFile("stdin.txt", *stdin_text);
      command = "cat " + ShellQuote(input.string()) + " | ";
    }
    command += ShellQuote(binary_.string());
    for (const std::string& arg : args) command += " " + ShellQuote(arg);
    std::filesystem::path err_file = dir_ / "stderr.txt";
    command += " 2>" + ShellQuote(err_file.string());

    Result result;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
      ADD_FAILURE() << "popen failed: " << command;
      return result;
    }
    char buffer[4096];
    for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) result.out.append(buffer, n);
    int status = pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream err(err_file);
    std::stringstream text;
    text << err.rdbuf();
    result.err = text.str();
    return result;
  }

  void ApplySchema() {
    Result r = Run({"schema", "apply", "--connection", connection_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::string Enqueue(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"enqueue", "--connection", connection_, "--topic", "orders"};
    args.insert(args.end(), extra.begin(), extra.end());
    Result r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    std::vector<std::string> lines = Lines(r.out);
    EXPECT_EQ(lines.size(), 1u) << r.out;
    EXPECT_EQ(r.out.back(), '\n');
    return lines.empty() ? std::string() : lines[0];
  }

  // Claims every ready row directly through the store, to check what outboxctl wrote.
  std::vector<OutboxMessage> ClaimAll() {
    TenantLocation location;
    location.identifier = "test";
    location.connection_string = connection_;
    StoreOptions options;
    options.create_schema = false;
    std::unique_ptr<OutboxStore> store;
    std::vector<OutboxMessage> messages;
    Status status = OpenOutboxStore(location, options, &store);
    if (status.ok())
      status = store->ClaimDue(100, std::chrono::seconds(30), "test-owner", &messages);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return messages;
  }

  testing::TempDir dir_;
  std::filesystem::path binary_;
  std::string db_;
  std::string connection_;
};

TEST_F(OutboxctlTest, SchemaApplyCreatesTheDatabaseAndIsIdempotent) {
  Result r = Run({"schema", "apply", "--connection", connection_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "schema ready: outbox in " + connection_ + "\n");
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(std::filesystem::exists(db_));

  r = Run({"schema", "apply", "--connection", connection_, "--table", "events"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "schema ready: events in " + connection_ + "\n");
  r = Run({"schema", "apply", "--connection", connection_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(OutboxctlTest, EnqueuePrintsOnlyTheIdAndStatsCountsThem) {
  ApplySchema();
  std::set<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    std::string id = Enqueue({"--payload", "{\"n\":" + std::to_string(i) + "}"});
    EXPECT_FALSE(id.empty());
    EXPECT_EQ(id.find_first_of(" \t:"), std::string::npos) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 3u);

  Result r = Run({"stats", "--connection", connection_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"ready\":3,\"in_progress\":0,\"done\":0,\"failed\":0}\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(OutboxctlTest, StatsOnAnEmptyOutbox) {
  ApplySchema();
  Result r = Run({"stats", "--connection", connection_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"ready\":0,\"in_progress\":0,\"done\":0,\"failed\":0}\n");
}

TEST_F(OutboxctlTest, EnqueueStoresEveryField) {
  ApplySchema();
  EXPECT_EQ(
      Enqueue({"--payload", "hello 'world'", "--message-id", "m-42", "--correlation-id", "corr-7"}),
      "m-42");
  std::vector<OutboxMessage> messages = ClaimAll();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].message_id, "m-42");
  EXPECT_EQ(messages[0].topic, "orders");
  EXPECT_EQ(messages[0].payload, "hello 'world'");
  EXPECT_EQ(messages[0].correlation_id, std::optional<std::string>("corr-7"));
}

TEST_F(OutboxctlTest, DelayedMessagesAreCountedButNotDue) {
  ApplySchema();
  Enqueue({"--payload", "later", "--delay", "1h"});
  Result r = Run({"stats", "--connection", connection_});
  EXPECT_EQ(r.out, "{\"ready\":1,\"in_progress\":0,\"done\":0,\"failed\":0}\n");
  EXPECT_TRUE(ClaimAll().empty());
}

TEST_F(OutboxctlTest, PayloadFromAFileAndFromStdin) {
  ApplySchema();
  std::string binary_payload("line1\nline2\n\x01\xff", 14);
  std::filesystem::path file = dir_.WriteFile("payload.bin", binary_payload);
  Enqueue({"--payload-file", file.string(), "--message-id", "from-file"});

  std::string piped = "{\"from\":\"stdin\"}\n";
  Result r = Run({"enqueue", "--connection", connection_, "--topic", "orders", "--payload-file",
                  "-", "--message-id", "from-stdin"},
                 &piped);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "from-stdin\n");

  std::vector<OutboxMessage> messages = ClaimAll();
  ASSERT_EQ(messages.size(), 2u);
  for (const OutboxMessage& m : messages) {
    EXPECT_EQ(m.payload, m.message_id == "from-file" ? binary_payload : piped) << m.message_id;
  }
}

TEST_F(OutboxctlTest, UsageErrorsExitTwoWithOneLineNamingTheArgument) {
  struct Case {
    std::vector<std::string> args;
    std::string expected_prefix;
  };
  std::vector<Case> cases = {
      {{"enqueue", "--connection", connection_, "--payload", "p"}, "outboxctl: --topic: "},
      {{"stats", "--connection", connection_, "--bogus", "1"},
       "outboxctl: stats: unknown option --bogus"},
      {{"enqueue", "--connection", connection_, "--topic", "t", "--payload", "p", "--delay",
        "soon"},
       "outboxctl: --delay: "},
      {{"frobnicate"}, "outboxctl: unknown command \"frobnicate\""},
      {{}, "outboxctl: missing command"},
      {{"stats", "--connection"}, "outboxctl: --connection: missing value"},
  };
  for (const Case& c : cases) {
    Result r = Run(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.expected_prefix;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
    EXPECT_EQ(r.err.rfind(c.expected_prefix, 0), 0u) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(db_)) << "a usage error touched the database";
}

TEST_F(OutboxctlTest, StoreErrorsExitOneWithOneLine) {
  // No database file: only `schema apply` creates one.
  Result r = Run({"stats", "--connection", connection_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
  EXPECT_EQ(r.err.rfind("outboxctl: ", 0), 0u) << r.err;
  EXPECT_FALSE(std::filesystem::exists(db_)) << "stats created the database";

  r = Run({"enqueue", "--connection", connection_, "--topic", "t", "--payload", "p"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(std::filesystem::exists(db_)) << "enqueue created the database";

  // A database without the table (a typo in --table) is an error, not a new table.
  ApplySchema();
  r = Run({"enqueue", "--connection", connection_, "--table", "outbx", "--topic", "t", "--payload",
           "p"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_EQ(r.err.rfind("outboxctl: ", 0), 0u) << r.err;

  r = Run({"enqueue", "--connection", connection_, "--topic", "t", "--payload-file",
           (dir_ / "missing.json").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.json"), std::string::npos) << r.err;
}

TEST_F(OutboxctlTest, PasswordsAreNeverPrinted) {
  for (const std::string& connection :
       {std::string("postgresql://app:hunter2@127.0.0.1:1/tenant?connect_timeout=2"),
        std::string(
            "postgresql://127.0.0.1:1/tenant?user=app&password=hunter2&connect_timeout=2")}) {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"schema", "apply", "--connection", connection},
          std::vector<std::string>{"stats", "--connection", connection},
          std::vector<std::string>{"enqueue", "--connection", connection, "--topic", "t",
                                   "--payload", "p"}}) {
      Result r = Run(args);
      EXPECT_EQ(r.exit_code, 1) << args[0] << " " << r.out << r.err;
      EXPECT_EQ(r.out.find("hunter2"), std::string::npos) << r.out;
      EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
      EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
    }
  }
}

TEST_F(OutboxctlTest, HelpAndVersion) {
  Result r = Run({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("usage: outboxctl", 0), 0u) << r.out;
  EXPECT_EQ(r.err, "");
  r = Run({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, std::string("outboxctl ") + OUTBOXD_VERSION + "\n");
}

}  // namespace
}  // namespace outboxd
