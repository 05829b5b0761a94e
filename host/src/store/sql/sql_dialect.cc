#include "store/sql/sql_dialect.h"

namespace outboxd::sql_store {

namespace {

constexpr size_t kMaxIdentifierLength = 63;

bool IsIdentifierStart(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool IsIdentifierPart(char c) { return IsIdentifierStart(c) || (c >= '0' && c <= '9'); }

}  // namespace

Status ValidateSqlIdentifier(const std::string& what, const std::string& name) {
  bool valid = !name.empty() && name.size() <= kMaxIdentifierLength && IsIdentifierStart(name[0]);
  for (size_t i = 1; valid && i < name.size(); ++i) valid = IsIdentifierPart(name[i]);
  if (valid) return Status::OK();
  return Status::InvalidArgument("invalid " + what + " '" + name +
                                 "': expected [A-Za-z_][A-Za-z0-9_]*, at most 63 characters");
}

const std::vector<std::string>& RequiredOutboxColumns() {
  static const std::vector<std::string> kColumns = {
      "id",           "message_id",      "topic",        "payload",      "correlation_id",
      "created_at",   "due_at",          "status",       "attempts",     "next_attempt_at",
      "locked_until", "owner_token",     "processed_at", "processed_by", "last_error"};
  return kColumns;
}

std::string SubstituteSql(std::string text, const std::string& key, const std::string& value) {
  const std::string token = "{" + key + "}";
  for (size_t pos = text.find(token); pos != std::string::npos;
       pos = text.find(token, pos + value.size())) {
    text.replace(pos, token.size(), value);
  }
  return text;
}

std::string QuoteIdentifier(const std::string& identifier) { return "\"" + identifier + "\""; }

std::string JoinIds(const std::vector<int64_t>& ids, char open, char close) {
  std::string out(1, open);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(ids[i]);
  }
  return out + close;
}

}  // namespace outboxd::sql_store
