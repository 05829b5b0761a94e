// Fuzz target: discovery record validation (obx/cpp/validate.hpp, RecordProblem) and EscapeForLog.
// The input is split at the first three 0xFF 0x00 separators into identifier, connection string,
// schema and table (so NUL bytes and invalid UTF-8 reach every field). Properties: a record that
// is accepted has non-empty identifier and connection string, valid UTF-8 without any control
// character or NUL in every field, schema/table names of at most 63 bytes; EscapeForLog never
// returns a control character and never more than its bound (plus the marker).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "obx/cpp/validate.hpp"

namespace {

bool Clean(std::string_view s) {
  if (!obx::validate::IsValidUtf8(s)) return false;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> fields;
  std::size_t begin = 0;
  while (fields.size() < 3) {
    const std::size_t sep = input.find(std::string_view("\xff\x00", 2), begin);
    if (sep == std::string_view::npos) break;
    fields.emplace_back(input.substr(begin, sep - begin));
    begin = sep + 2;
  }
  fields.emplace_back(input.substr(begin));
  fields.resize(4);
  auto str = [](const std::string& s) {
    return obx_str{s.empty() ? nullptr : s.data(), s.size()};
  };
  obx_database_record record{};
  record.struct_size = sizeof(obx_database_record);
  record.identifier = str(fields[0]);
  record.connection_string = str(fields[1]);
  record.schema_name = str(fields[2]);
  record.table_name = str(fields[3]);
  const std::string problem = obx::validate::RecordProblem(record);
  if (problem.empty()) {
    if (fields[0].empty() || fields[1].empty()) std::abort();
    for (const std::string& f : fields) {
      if (!Clean(f)) std::abort();
    }
    if (fields[2].size() > obx::validate::kMaxSqlNameBytes) std::abort();
    if (fields[3].size() > obx::validate::kMaxSqlNameBytes) std::abort();
  }
  for (const std::string& f : fields) {
    const std::string escaped = obx::validate::EscapeForLog(f, 64);
    for (const char c : escaped) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) std::abort();
    }
  }
  return 0;
}
