#include "ctl/outboxctl_command.h"

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

TEST(CtlOutboxctlCommandTest, SchemaApply) {
  OutboxctlCommand c = ParseOk({"schema", "apply", "--connection", "sqlite:/tmp/a.db"});
  EXPECT_EQ(c.action, Action::kSchemaApply);
  EXPECT_EQ(c.location.connection_string, "sqlite:/tmp/a.db");
  EXPECT_EQ(c.location.schema_name, "infra");
  EXPECT_EQ(c.location.table_name, "outbox");
  EXPECT_EQ(c.location.identifier, "sqlite:/tmp/a.db");  // errors name the database
  EXPECT_TRUE(c.config_path.empty());
}

TEST(CtlOutboxctlCommandTest, SchemaAndTableWithEqualsSyntax) {
  OutboxctlCommand c =
      ParseOk({"stats", "--connection=sqlite:x.db", "--schema=ops", "--table", "events"});
  EXPECT_EQ(c.action, Action::kStats);
  EXPECT_EQ(c.location.connection_string, "sqlite:x.db");
  EXPECT_EQ(c.location.schema_name, "ops");
  EXPECT_EQ(c.location.table_name, "events");
}

TEST(CtlOutboxctlCommandTest, EnqueueWithEverything) {
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

TEST(CtlOutboxctlCommandTest, EnqueueDefaults) {
  OutboxctlCommand c =
      ParseOk({"enqueue", "--connection", "sqlite:x.db", "--topic", "t", "--payload", ""});
  EXPECT_EQ(c.message.payload, "");
  EXPECT_FALSE(c.message.correlation_id.has_value());
  EXPECT_FALSE(c.message.message_id.has_value());
  EXPECT_EQ(c.message.delay, std::chrono::milliseconds(0));
}

TEST(CtlOutboxctlCommandTest, ValuesMayStartWithADash) {
  OutboxctlCommand c =
      ParseOk({"enqueue", "--connection", "sqlite:x.db", "--topic", "t", "--payload", "-1"});
  EXPECT_EQ(c.message.payload, "-1");
  c = ParseOk({"enqueue", "--connection", "sqlite:x.db", "--topic", "t", "--payload=a=b"});
  EXPECT_EQ(c.message.payload, "a=b");
}

TEST(CtlOutboxctlCommandTest, PayloadFile) {
  OutboxctlCommand c =
      ParseOk({"enqueue", "--connection", "sqlite:x.db", "--topic", "t", "--payload-file", "-"});
  EXPECT_EQ(c.payload_file, "-");
  EXPECT_EQ(ErrorOf({"enqueue", "--connection", "sqlite:x.db", "--topic", "t", "--payload", "p",
                     "--payload-file", "f"}),
            "--payload-file: cannot be combined with --payload");
  EXPECT_EQ(ErrorOf({"enqueue", "--connection", "sqlite:x.db", "--topic", "t"}),
            "--payload: required for enqueue (or --payload-file)");
}

TEST(CtlOutboxctlCommandTest, HelpAndVersion) {
  EXPECT_EQ(ParseOk({"--help"}).action, Action::kHelp);
  EXPECT_EQ(ParseOk({"-h"}).action, Action::kHelp);
  EXPECT_EQ(ParseOk({"enqueue", "--bogus", "x", "--help"}).action, Action::kHelp);
  EXPECT_EQ(ParseOk({"--version"}).action, Action::kVersion);
  EXPECT_EQ(ParseOk({"--version", "--help"}).action, Action::kHelp);
  EXPECT_NE(OutboxctlUsage().find("schema apply"), std::string::npos);
}

TEST(CtlOutboxctlCommandTest, CommandErrors) {
  const std::string commands =
      "tenants, stats, failed list, failed show, replay, purge, enqueue, schema apply, schema "
      "status";
  EXPECT_EQ(ErrorOf({}), "missing command (" + commands + ")");
  EXPECT_EQ(ErrorOf({"--connection", "sqlite:x"}), "missing command (" + commands + ")");
  EXPECT_EQ(ErrorOf({"frobnicate"}), "unknown command \"frobnicate\" (expected " + commands + ")");
  EXPECT_EQ(ErrorOf({"schema", "--connection", "sqlite:x"}),
            "schema: expected the subcommand \"apply\" or \"status\"");
  EXPECT_EQ(ErrorOf({"schema", "drop", "--connection", "sqlite:x"}),
            "schema: expected the subcommand \"apply\" or \"status\", got \"drop\"");
  EXPECT_EQ(ErrorOf({"failed", "--connection", "sqlite:x"}),
            "failed: expected the subcommand \"list\" or \"show\"");
  EXPECT_EQ(ErrorOf({"stats", "extra", "--connection", "sqlite:x"}),
            "unexpected argument \"extra\"");
}

TEST(CtlOutboxctlCommandTest, OptionErrors) {
  EXPECT_EQ(ErrorOf({"stats"}), "--connection or --config: required for stats");
  EXPECT_EQ(ErrorOf({"schema", "apply"}), "--connection or --config: required for schema apply");
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

TEST(CtlOutboxctlCommandTest, DelayErrors) {
  std::string message = ErrorOf(
      {"enqueue", "--connection", "a", "--topic", "t", "--payload", "p", "--delay", "soon"});
  EXPECT_EQ(message.rfind("--delay: expected a duration such as", 0), 0u) << message;
  message =
      ErrorOf({"enqueue", "--connection", "a", "--topic", "t", "--payload", "p", "--delay", "-5s"});
  EXPECT_NE(message.find("negative"), std::string::npos) << message;
}

TEST(CtlOutboxctlCommandTest, ConfigSourceAndTenant) {
  OutboxctlCommand c = ParseOk({"tenants", "--config", "/etc/outboxd.json", "--json"});
  EXPECT_EQ(c.action, Action::kTenants);
  EXPECT_EQ(c.config_path, "/etc/outboxd.json");
  EXPECT_TRUE(c.tenant.empty());
  EXPECT_TRUE(c.json);
  c = ParseOk({"stats", "--config=o.json", "--tenant", "customer-001"});
  EXPECT_EQ(c.action, Action::kStats);
  EXPECT_EQ(c.tenant, "customer-001");
  EXPECT_FALSE(c.json);
  EXPECT_EQ(ErrorOf({"stats", "--config", "o.json", "--connection", "sqlite:x"}),
            "--config: cannot be combined with --connection");
  EXPECT_EQ(ErrorOf({"stats", "--connection", "sqlite:x", "--tenant", "t"}),
            "--tenant: only with --config (--connection names one database)");
  EXPECT_EQ(ErrorOf({"stats", "--config", "o.json", "--table", "t"}),
            "--table: only with --connection (discovery names each tenant's table)");
  EXPECT_EQ(ErrorOf({"enqueue", "--config", "o.json", "--topic", "t", "--payload", "p"}),
            "--tenant: required for enqueue with --config");
  c = ParseOk({"enqueue", "--config", "o.json", "--tenant", "a", "--topic", "t", "--payload", "p"});
  EXPECT_EQ(c.action, Action::kEnqueue);
  EXPECT_EQ(c.tenant, "a");
  EXPECT_EQ(ErrorOf({"enqueue", "--connection", "x", "--topic", "t", "--payload", "p", "--json"}),
            "enqueue: unknown option --json");
}

TEST(CtlOutboxctlCommandTest, Switches) {
  EXPECT_EQ(ErrorOf({"stats", "--connection", "x", "--json=yes"}), "--json: takes no value");
  EXPECT_EQ(ErrorOf({"stats", "--connection", "x", "--json", "--json"}),
            "--json: given more than once");
  EXPECT_EQ(ErrorOf({"stats", "--connection", "x", "--dry-run"}), "stats: unknown option --dry-run");
}

TEST(CtlOutboxctlCommandTest, FailedListAndShow) {
  OutboxctlCommand c = ParseOk({"failed", "list", "--config", "o.json", "--topic", "orders",
                                "--since", "2h", "--limit", "5"});
  EXPECT_EQ(c.action, Action::kFailedList);
  EXPECT_EQ(c.topic, "orders");
  EXPECT_EQ(c.since, std::optional<std::chrono::milliseconds>(std::chrono::hours(2)));
  EXPECT_EQ(c.limit, 5);
  EXPECT_EQ(ParseOk({"failed", "list", "--connection", "x"}).limit, 100);
  EXPECT_EQ(ErrorOf({"failed", "list", "--connection", "x", "--limit", "0"}),
            "--limit: expected a whole number from 1 to 100000, got \"0\"");
  EXPECT_EQ(ErrorOf({"failed", "list", "--connection", "x", "--limit", "5x"}),
            "--limit: expected a whole number from 1 to 100000, got \"5x\"");
  c = ParseOk({"failed", "show", "--config", "o.json", "--tenant", "a", "--message-id", "m"});
  EXPECT_EQ(c.action, Action::kFailedShow);
  EXPECT_EQ(c.message_ids, std::vector<std::string>{"m"});
  EXPECT_EQ(ErrorOf({"failed", "show", "--config", "o.json", "--message-id", "m"}),
            "--tenant: required for failed show with --config");
  EXPECT_EQ(ErrorOf({"failed", "show", "--connection", "x"}),
            "--message-id: required for failed show");
  EXPECT_EQ(ErrorOf({"failed", "show", "--connection", "x", "--message-id", "a", "--message-id",
                     "b"}),
            "--message-id: given more than once");
}

TEST(CtlOutboxctlCommandTest, Replay) {
  OutboxctlCommand c = ParseOk({"replay", "--config", "o.json", "--message-id", "a",
                                "--message-id", "b", "--dry-run"});
  EXPECT_EQ(c.action, Action::kReplay);
  EXPECT_EQ(c.message_ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(c.dry_run);
  EXPECT_FALSE(c.all_failed);
  c = ParseOk({"replay", "--connection", "x", "--topic", "orders"});
  EXPECT_EQ(c.topic, "orders");
  EXPECT_FALSE(c.dry_run);
  EXPECT_TRUE(ParseOk({"replay", "--connection", "x", "--all-failed"}).all_failed);
  const std::string one_of = "replay: give exactly one of --message-id, --topic or --all-failed";
  EXPECT_EQ(ErrorOf({"replay", "--connection", "x"}), one_of);
  EXPECT_EQ(ErrorOf({"replay", "--connection", "x", "--topic", "t", "--all-failed"}), one_of);
}

TEST(CtlOutboxctlCommandTest, Purge) {
  OutboxctlCommand c = ParseOk({"purge", "--config", "o.json", "--failed", "--older-than", "7d",
                                "--topic", "t", "--yes"});
  EXPECT_EQ(c.action, Action::kPurge);
  EXPECT_EQ(c.older_than, std::optional<std::chrono::milliseconds>(std::chrono::hours(24 * 7)));
  EXPECT_EQ(c.topic, "t");
  EXPECT_TRUE(c.yes);
  EXPECT_FALSE(c.dry_run);
  EXPECT_TRUE(ParseOk({"purge", "--connection", "x", "--failed", "--dry-run"}).dry_run);
  EXPECT_EQ(ErrorOf({"purge", "--connection", "x", "--yes"}),
            "--failed: required for purge (only failed rows are purged)");
  EXPECT_EQ(ErrorOf({"purge", "--connection", "x", "--failed"}),
            "purge: give exactly one of --dry-run or --yes");
  EXPECT_EQ(ErrorOf({"purge", "--connection", "x", "--failed", "--yes", "--dry-run"}),
            "purge: give exactly one of --dry-run or --yes");
}

TEST(CtlOutboxctlCommandTest, SchemaStatus) {
  EXPECT_EQ(ParseOk({"schema", "status", "--config", "o.json"}).action, Action::kSchemaStatus);
}

}  // namespace
}  // namespace outboxd
