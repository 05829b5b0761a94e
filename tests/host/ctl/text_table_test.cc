#include "ctl/text_table.h"

#include <gtest/gtest.h>

namespace outboxd {
namespace {

TEST(CtlTextTableTest, AlignsTextLeftAndNumbersRight) {
  TextTable table({"TENANT", "READY", "ERROR"});
  table.AddRow({"customer-001", "7", ""});
  table.AddRow({"c2", "1234", "connection refused"});
  table.AddRow({"c3", "-", ""});
  EXPECT_EQ(table.ToString(),
            "TENANT        READY  ERROR\n"
            "customer-001      7\n"
            "c2             1234  connection refused\n"
            "c3                -\n");
}

TEST(CtlTextTableTest, HeaderOnlyWhenNoRows) {
  TextTable table({"A", "B"});
  EXPECT_EQ(table.ToString(), "A  B\n");
}

}  // namespace
}  // namespace outboxd
