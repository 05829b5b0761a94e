// HostileConnections: the table of connection strings whose passwords every error path must hide
// (issue 14: unescaped '/', '@', ':', '%' in a URI password, percent-encoding, a malformed IPv6
// host, libpq keyword strings with quoted, double-quoted, glued and escaped values, ?password= query
// parameters).
// Each entry lists the pieces of its secret that must never appear in a log line, on stderr, in
// last_error or in an error message. Hosts point at a socket folder that does not exist, so a
// connect fails at once without a network or a fixed port.
#ifndef OUTBOXD_TESTS_SUPPORT_HOSTILE_CONNECTIONS_H_
#define OUTBOXD_TESTS_SUPPORT_HOSTILE_CONNECTIONS_H_

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace outboxd::testing {

struct HostileConnection {
  const char* name;        // for test output
  std::string connection;  // as an operator or a discovery row would write it
  std::vector<std::string> secret_pieces;  // none may appear anywhere
  bool is_uri;  // a postgresql:// URI (the store and the sql plugin accept only those)
};

inline const std::vector<HostileConnection>& HostileConnections() {
  static const std::vector<HostileConnection> kTable = {
      {"uri_unescaped_slash",
       "postgresql://alice:Sl4sh/Pw0rdX@%2Fnonexistent-obx-redact/db",
       {"Sl4sh/Pw0rdX", "Sl4sh", "Pw0rdX"},
       true},
      {"uri_unescaped_at_and_colon",
       "postgresql://alice:Atsign1@Colon2:Pct3Z@%2Fnonexistent-obx-redact/db",
       {"Atsign1@Colon2:Pct3Z", "Atsign1", "Colon2", "Pct3Z"},
       true},
      {"uri_raw_percent",
       "postgresql://alice:Per%zzCent9@%2Fnonexistent-obx-redact/db",
       {"Per%zzCent9", "zzCent9"},
       true},
      {"uri_percent_encoded",
       "postgresql://alice:Enc%40oded%2FpwQ@%2Fnonexistent-obx-redact/db",
       {"Enc%40oded%2FpwQ", "Enc@oded/pwQ", "oded%2FpwQ", "pwQ"},
       true},
      {"uri_ipv6_unterminated", "postgresql://alice:V6secretK@[::1/x", {"V6secretK"}, true},
      {"uri_ipv6_slash",
       "postgresql://alice:V6/sl4shK@[::1]:5432/db",
       {"V6/sl4shK", "sl4shK"},
       true},
      {"uri_query_quoted",
       "postgresql://alice@%2Fnonexistent-obx-redact/db?password='x'Query5ecret",
       {"Query5ecret"},
       true},
      {"uri_query_encoded_key",
       "postgresql://alice@%2Fnonexistent-obx-redact/db?pass%77ord=Enc0dedKey&sslmode=disable",
       {"Enc0dedKey"},
       true},
      {"uri_password_holding_a_scheme",
       "postgresql://alice:@Sch3me://Pw9Qx@%2Fnonexistent-obx-redact/db",
       {"Sch3me", "Pw9Qx"},
       true},
      {"kv_quoted_glued",
       "host=/nonexistent-obx-redact dbname=db password='x'Glued5ecret",
       {"Glued5ecret"},
       false},
      {"kv_spaces_quoted",
       "host=/nonexistent-obx-redact password = 'Spa ced99' dbname=db",
       {"Spa ced99", "ced99"},
       false},
      {"kv_escaped_quote",
       R"(host=/nonexistent-obx-redact password='Esc\'aped77' dbname=db)",
       {R"(Esc\'aped77)", "Esc'aped77", "aped77"},
       false},
      // Not libpq's syntax, but operators write it; a JSON text (a configuration error) shows the
      // quotes as \".
      {"kv_double_quoted",
       R"(host=/nonexistent-obx-redact password="Dq uote7d" dbname=db)",
       {"Dq uote7d", "uote7d"},
       false},
      // libpq reads "Back\ sl4shS" as "Back sl4shS"; a JSON text shows the escape as \\.
      {"kv_backslash_escaped_space",
       R"(host=/nonexistent-obx-redact password=Back\ sl4shS dbname=db)",
       {R"(Back\ sl4shS)", "Back sl4shS", "sl4shS"},
       false},
  };
  return kTable;
}

// Fails the current test when any secret piece of `c` appears in `text`.
inline void ExpectNoSecret(const std::string& text, const HostileConnection& c,
                           const std::string& where) {
  for (const std::string& piece : c.secret_pieces) {
    EXPECT_EQ(text.find(piece), std::string::npos)
        << where << " [" << c.name << "] shows \"" << piece << "\" in: " << text;
  }
}

}  // namespace outboxd::testing

#endif  // OUTBOXD_TESTS_SUPPORT_HOSTILE_CONNECTIONS_H_
