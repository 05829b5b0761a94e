#include "config/outboxctl_command.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace outboxd {
namespace {

using Action = OutboxctlCommand::Action;

OutboxctlCommand ParseOk(const std::vector<std::string>& args) {
  OutboxctlCommand command;
  Status status = ParseOutboxctlCommand(args, &command);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return command;
}

std::string ErrorOf(const std::vector<std::string>& args) {
  OutboxctlCommand command;
  Status status = ParseOutboxctlCommand(args, &command);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  return status.message();
}

TEST(ConfigOutboxctlCommandTest, SchemaApply) {
  OutboxctlCommand c = ParseOk({"schema", "apply", "--connection", "sqlite:/tmp/a.db"});
  EXPECT_EQ(c.action, Action::kSchemaApply);
  EXPECT_EQ(c.location.connection_string, "sqlite:/tmp/a.db");
  EXPECT_EQ(c.location.schema_name, "infra");
  EXPECT_EQ(c.location.table_name, "outbox");
  EXPECT_EQ(c.location.identifier, "outboxctl");
}

TEST(ConfigOutboxctlCommandTest, SchemaAndTableWithEqualsSyntax) {
  OutboxctlCommand c =
      ParseOk({"stats", "--connection=sqlite:x.db", "--schema=ops", "--table", "events"});
  EXPECT_EQ(c.action, Action::kStats);
  EXPECT_EQ(c.location.connection_string, "sqlite:x.db");
  EXPECT_EQ(c.location.schema_name, "ops");
  EXPECT_EQ(c.location.table_name, "events");
}

TEST(ConfigOutboxctlCommandTest, EnqueueWithEverything) {
  OutboxctlCommand c = ParseOk({"enqueue", "--connection", "sqlite:x.db", "--topic", "orders",
                                "--payload", "{\"id\":1}", "--correlation-id", "corr", "--delay",
                                "1m30s", "--message-id", "m-1"});
  EXPECT_EQ(c.action, Action::kEnqueue);
  EXPECT_EQ(c.message.topic, "orders");
  EXPECT_EQ(c.message.payload, "{\"id\":1}");
  EXPECT_EQ(c.message.correlation_id, std::optional<std::string>("corr"));
  EXPECT_EQ(c.message.message_id, std::optional<std::string>("m-1"));
  EXPECT_EQ(c.message.delay, std::chrono::seconds(90));
  EXPECT_TRUE(c.payload_file.empty());
}

TEST(ConfigOutboxctlCommandTest, EnqueueDefaults) {
  OutboxctlCommand c =
      ParseOk({"enqueue", "--connection", "sqlite:x.db", "--topic", "t", "--payload", ""});
  EXPECT_EQ(c.message.payload, "");
  EXPECT_FALSE(c.message.correlation_id.has_value());
  EXPECT_FALSE(c.message.message_id.has_value());
  EXPECT_EQ(c.message.delay, std::chrono::milliseconds(0));
}

TEST(ConfigOutboxctlCommandTest, ValuesMayStartWithADash) {
  OutboxctlCommand c =
      ParseOk({"enqueue", "--connection", "sqlite:x.db", "--topic", "t", "--payload", "-1"});
  EXPECT_EQ(c.message.payload, "-1");
  c = ParseOk({"enqueue", "--connection", "sqlite:x.db", "--topic", "t", "--payload=a=b"});
  EXPECT_EQ(c.message.payload, "a=b");
}

TEST(ConfigOutboxctlCommandTest, PayloadFile) {
  OutboxctlCommand c =
      ParseOk({"enqueue", "--connection", "sqlite:x.db", "--topic", "t", "--payload-file", "-"});
  EXPECT_EQ(c.payload_file, "-");
  EXPECT_EQ(ErrorOf({"enqueue", "--connection", "sqlite:x.db", "--topic", "t", "--payload", "p",
                     "--payload-file", "f"}),
            "--payload-file: cannot be combined with --payload");
  EXPECT_EQ(ErrorOf({"enqueue", "--connection", "sqlite:x.db", "--topic", "t"}),
            "--payload: required for enqueue (or --payload-file)");
}

TEST(ConfigOutboxctlCommandTest, HelpAndVersion) {
  EXPECT_EQ(ParseOk({"--help"}).action, Action::kHelp);
  EXPECT_EQ(ParseOk({"-h"}).action, Action::kHelp);
  EXPECT_EQ(ParseOk({"enqueue", "--bogus", "x", "--help"}).action, Action::kHelp);
  EXPECT_EQ(ParseOk({"--version"}).action, Action::kVersion);
  EXPECT_EQ(ParseOk({"--version", "--help"}).action, Action::kHelp);
  EXPECT_NE(OutboxctlUsage().find("schema apply"), std::string::npos);
}

TEST(ConfigOutboxctlCommandTest, CommandErrors) {
  EXPECT_EQ(ErrorOf({}), "missing command (schema apply, enqueue, stats)");
  EXPECT_EQ(ErrorOf({"--connection", "sqlite:x"}),
            "missing command (schema apply, enqueue, stats)");
  EXPECT_EQ(ErrorOf({"frobnicate"}),
            "unknown command \"frobnicate\" (expected schema apply, enqueue or stats)");
  EXPECT_EQ(ErrorOf({"schema", "--connection", "sqlite:x"}),
            "schema: expected the subcommand \"apply\"");
  EXPECT_EQ(ErrorOf({"schema", "drop", "--connection", "sqlite:x"}),
            "schema: expected the subcommand \"apply\", got \"drop\"");
  EXPECT_EQ(ErrorOf({"stats", "extra", "--connection", "sqlite:x"}),
            "unexpected argument \"extra\"");
}

TEST(ConfigOutboxctlCommandTest, OptionErrors) {
  EXPECT_EQ(ErrorOf({"stats"}), "--connection: required for stats");
  EXPECT_EQ(ErrorOf({"schema", "apply"}), "--connection: required for schema apply");
  EXPECT_EQ(ErrorOf({"stats", "--connection"}), "--connection: missing value");
  EXPECT_EQ(ErrorOf({"stats", "--connection", ""}), "--connection: must not be empty");
  EXPECT_EQ(ErrorOf({"stats", "--connection", "a", "--connection", "b"}),
            "--connection: given more than once");
  EXPECT_EQ(ErrorOf({"stats", "--connection", "a", "--topic", "t"}),
            "stats: unknown option --topic");
  EXPECT_EQ(ErrorOf({"stats", "--connection", "a", "-x"}), "unknown option -x");
  EXPECT_EQ(ErrorOf({"stats", "--connection", "a", "--table", ""}), "--table: must not be empty");
  EXPECT_EQ(ErrorOf({"enqueue", "--connection", "a", "--payload", "p"}),
            "--topic: required for enqueue");
  EXPECT_EQ(ErrorOf({"enqueue", "--connection", "a", "--topic", "", "--payload", "p"}),
            "--topic: must not be empty");
}

TEST(ConfigOutboxctlCommandTest, DelayErrors) {
  std::string message = ErrorOf(
      {"enqueue", "--connection", "a", "--topic", "t", "--payload", "p", "--delay", "soon"});
  EXPECT_EQ(message.rfind("--delay: expected a duration such as", 0), 0u) << message;
  message =
      ErrorOf({"enqueue", "--connection", "a", "--topic", "t", "--payload", "p", "--delay", "-5s"});
  EXPECT_NE(message.find("negative"), std::string::npos) << message;
}

}  // namespace
}  // namespace outboxd
