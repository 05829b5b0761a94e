// Pins the C ABI: every struct's size and every field's offset on x86-64 (static_asserts, so moving
// a field breaks the build), the fixed values of every constant, and agreement between the C and
// C++ compilers (abi_compiles_as_c_test.c computes the same layout in C).
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <type_traits>
#include <vector>

#include "obx/obx.h"

extern "C" int obx_c_header_probe(void);
extern "C" size_t obx_c_layout(size_t* values, size_t capacity);

namespace {

#if defined(__x86_64__)
static_assert(sizeof(obx_str) == 16 && alignof(obx_str) == 8);
static_assert(offsetof(obx_str, data) == 0);
static_assert(offsetof(obx_str, size) == 8);

static_assert(sizeof(obx_plugin_descriptor) == 72 && alignof(obx_plugin_descriptor) == 8);
static_assert(offsetof(obx_plugin_descriptor, struct_size) == 0);
static_assert(offsetof(obx_plugin_descriptor, magic) == 4);
static_assert(offsetof(obx_plugin_descriptor, abi_major) == 8);
static_assert(offsetof(obx_plugin_descriptor, abi_minor) == 12);
static_assert(offsetof(obx_plugin_descriptor, name) == 16);
static_assert(offsetof(obx_plugin_descriptor, version) == 24);
static_assert(offsetof(obx_plugin_descriptor, description) == 32);
static_assert(offsetof(obx_plugin_descriptor, kinds) == 40);
static_assert(offsetof(obx_plugin_descriptor, flags) == 44);
static_assert(offsetof(obx_plugin_descriptor, topics) == 48);
static_assert(offsetof(obx_plugin_descriptor, handler) == 56);
static_assert(offsetof(obx_plugin_descriptor, discovery) == 64);

static_assert(sizeof(obx_host_api) == 88 && alignof(obx_host_api) == 8);
static_assert(offsetof(obx_host_api, struct_size) == 0);
static_assert(offsetof(obx_host_api, abi_major) == 4);
static_assert(offsetof(obx_host_api, abi_minor) == 8);
static_assert(offsetof(obx_host_api, reserved0) == 12);
static_assert(offsetof(obx_host_api, host_version) == 16);
static_assert(offsetof(obx_host_api, log) == 32);
static_assert(offsetof(obx_host_api, log_enabled) == 40);
static_assert(offsetof(obx_host_api, now_unix_ms) == 48);
static_assert(offsetof(obx_host_api, now_monotonic_ns) == 56);
static_assert(offsetof(obx_host_api, set_error) == 64);
static_assert(offsetof(obx_host_api, emit_database) == 72);
static_assert(offsetof(obx_host_api, should_abort) == 80);

static_assert(sizeof(obx_message_view) == 112 && alignof(obx_message_view) == 8);
static_assert(offsetof(obx_message_view, struct_size) == 0);
static_assert(offsetof(obx_message_view, attempt) == 4);
static_assert(offsetof(obx_message_view, row_id) == 8);
static_assert(offsetof(obx_message_view, message_id) == 16);
static_assert(offsetof(obx_message_view, topic) == 32);
static_assert(offsetof(obx_message_view, payload) == 48);
static_assert(offsetof(obx_message_view, correlation_id) == 64);
static_assert(offsetof(obx_message_view, tenant) == 80);
static_assert(offsetof(obx_message_view, created_at_unix_ms) == 96);
static_assert(offsetof(obx_message_view, due_at_unix_ms) == 104);

static_assert(sizeof(obx_handler_result) == 16 && alignof(obx_handler_result) == 8);
static_assert(offsetof(obx_handler_result, struct_size) == 0);
static_assert(offsetof(obx_handler_result, reserved0) == 4);
static_assert(offsetof(obx_handler_result, retry_after_ms) == 8);

static_assert(sizeof(obx_handler_vtable) == 32 && alignof(obx_handler_vtable) == 8);
static_assert(offsetof(obx_handler_vtable, struct_size) == 0);
static_assert(offsetof(obx_handler_vtable, reserved0) == 4);
static_assert(offsetof(obx_handler_vtable, create) == 8);
static_assert(offsetof(obx_handler_vtable, destroy) == 16);
static_assert(offsetof(obx_handler_vtable, handle) == 24);

static_assert(sizeof(obx_database_record) == 72 && alignof(obx_database_record) == 8);
static_assert(offsetof(obx_database_record, struct_size) == 0);
static_assert(offsetof(obx_database_record, reserved0) == 4);
static_assert(offsetof(obx_database_record, identifier) == 8);
static_assert(offsetof(obx_database_record, connection_string) == 24);
static_assert(offsetof(obx_database_record, schema_name) == 40);
static_assert(offsetof(obx_database_record, table_name) == 56);

static_assert(sizeof(obx_discovery_vtable) == 32 && alignof(obx_discovery_vtable) == 8);
static_assert(offsetof(obx_discovery_vtable, struct_size) == 0);
static_assert(offsetof(obx_discovery_vtable, reserved0) == 4);
static_assert(offsetof(obx_discovery_vtable, create) == 8);
static_assert(offsetof(obx_discovery_vtable, destroy) == 16);
static_assert(offsetof(obx_discovery_vtable, discover) == 24);
#endif  // __x86_64__

// Values fixed forever (types.h, handler.h, plugin.h).
static_assert(OBX_ABI_MAJOR == 1 && OBX_ABI_MINOR == 0);
static_assert(OBX_PLUGIN_MAGIC == 0x4C504258u);
static_assert(OBX_STATUS_OK == 0 && OBX_STATUS_ERROR == 1 && OBX_STATUS_ABI_MISMATCH == 2 &&
              OBX_STATUS_INVALID_ARGUMENT == 3);
static_assert(OBX_OUTCOME_OK == 0 && OBX_OUTCOME_RETRY == 1 && OBX_OUTCOME_PERMANENT_FAILURE == 2);
static_assert(OBX_LOG_TRACE == 0 && OBX_LOG_DEBUG == 1 && OBX_LOG_INFO == 2 && OBX_LOG_WARN == 3 &&
              OBX_LOG_ERROR == 4);
static_assert(OBX_KIND_HANDLER == 0x1u && OBX_KIND_DISCOVERY == 0x2u);

// Every struct that crosses the boundary is plain C data.
template <class T>
constexpr bool kIsCData = std::is_standard_layout_v<T>&& std::is_trivially_copyable_v<T>&&
    std::is_trivially_default_constructible_v<T>;
static_assert(kIsCData<obx_str> && kIsCData<obx_plugin_descriptor> && kIsCData<obx_host_api> &&
              kIsCData<obx_message_view> && kIsCData<obx_handler_result> &&
              kIsCData<obx_handler_vtable> && kIsCData<obx_database_record> &&
              kIsCData<obx_discovery_vtable>);

// The same list as abi_compiles_as_c_test.c, computed by the C++ compiler.
std::vector<size_t> CxxLayout() {
  std::vector<size_t> values;
#define OBX_LAYOUT_STRUCT(T) values.push_back(sizeof(T));
#define OBX_LAYOUT_FIELD(T, f) values.push_back(offsetof(T, f));
#include "abi_layout_fields.inc"
#undef OBX_LAYOUT_STRUCT
#undef OBX_LAYOUT_FIELD
  return values;
}

TEST(AbiLayoutTest, CAndCxxCompilersAgreeOnEveryOffsetAndSize) {
  const std::vector<size_t> cxx = CxxLayout();
  std::vector<size_t> c(cxx.size() + 8, 0);
  const size_t n = obx_c_layout(c.data(), c.size());
  ASSERT_EQ(n, cxx.size());
  c.resize(n);
  EXPECT_EQ(c, cxx);
}

TEST(AbiLayoutTest, CProbeBuildsEveryStruct) {
  const size_t expected = sizeof(obx_str) + sizeof(obx_message_view) + sizeof(obx_handler_result) +
                          sizeof(obx_handler_vtable) + sizeof(obx_discovery_vtable) +
                          sizeof(obx_database_record) + sizeof(obx_host_api) +
                          sizeof(obx_plugin_descriptor);
  EXPECT_EQ(obx_c_header_probe(), static_cast<int>(expected));
}

TEST(AbiLayoutTest, EveryStructStartsWithItsSize) {
  EXPECT_EQ(offsetof(obx_plugin_descriptor, struct_size), 0u);
  EXPECT_EQ(offsetof(obx_host_api, struct_size), 0u);
  EXPECT_EQ(offsetof(obx_message_view, struct_size), 0u);
  EXPECT_EQ(offsetof(obx_handler_result, struct_size), 0u);
  EXPECT_EQ(offsetof(obx_handler_vtable, struct_size), 0u);
  EXPECT_EQ(offsetof(obx_database_record, struct_size), 0u);
  EXPECT_EQ(offsetof(obx_discovery_vtable, struct_size), 0u);
}

TEST(AbiLayoutTest, MagicSpellsXbplInMemory) {
  const uint32_t magic = OBX_PLUGIN_MAGIC;
  char bytes[4];
  std::memcpy(bytes, &magic, sizeof(bytes));
  EXPECT_EQ(std::string(bytes, 4), "XBPL");  // little-endian
}

TEST(AbiLayoutTest, EntrySymbolCarriesTheMajor) {
  EXPECT_STREQ(OBX_ENTRY_SYMBOL, "obx_plugin_entry_v1");
  EXPECT_EQ(std::string(OBX_ENTRY_SYMBOL).back(), static_cast<char>('0' + OBX_ABI_MAJOR));
}

TEST(AbiLayoutTest, HostApiHasChecksTheTableSize) {
  obx_host_api api{};
  api.struct_size = sizeof(obx_host_api);
  EXPECT_TRUE(OBX_HOST_API_HAS(&api, should_abort));
  // A host that stopped after emit_database: should_abort is not there, emit_database is.
  api.struct_size = offsetof(obx_host_api, should_abort);
  EXPECT_FALSE(OBX_HOST_API_HAS(&api, should_abort));
  EXPECT_TRUE(OBX_HOST_API_HAS(&api, emit_database));
  api.struct_size = offsetof(obx_host_api, should_abort) + sizeof(api.should_abort) - 1;
  EXPECT_FALSE(OBX_HOST_API_HAS(&api, should_abort));
}

TEST(AbiLayoutTest, StrMakeBuildsAView) {
  const char text[] = "abc";
  obx_str s = obx_str_make(text, 3);
  EXPECT_EQ(s.data, text);
  EXPECT_EQ(s.size, 3u);
}

}  // namespace
