// outboxd SDK, C++ layer: write a handler or a discovery provider as a small class plus one macro.
//
//   class SendEmail : public obx::Handler {
//    public:
//     explicit SendEmail(const obx::PluginContext& ctx);          // parse ctx.config_json here
//     obx::Result Handle(const obx::Message& m) override;         // may run on several threads
//   };
//   static const char* const kTopics[] = {"email.send", nullptr};
//   OBX_DEFINE_HANDLER_PLUGIN(SendEmail, "send-email", "1.0.0", kTopics)
//
// The macro writes the one exported C entry point and the C trampolines. Every trampoline catches
// all exceptions, so nothing C++ crosses the ABI:
//   - a constructor that throws std::invalid_argument fails create with OBX_STATUS_INVALID_ARGUMENT,
//     any other exception with OBX_STATUS_ERROR; the text reaches the host's log;
//   - Handle throwing obx::PermanentFailure -> OBX_OUTCOME_PERMANENT_FAILURE, any other exception
//     -> OBX_OUTCOME_RETRY with "<type>: <what>" as the error text;
//   - Discover throwing -> OBX_STATUS_ERROR (the host keeps its current tenant set).
// OWNERSHIP: obx::Message views are borrowed for the Handle call only. Instances are created and
// destroyed by the host through the trampolines; never delete them yourself.
#ifndef OBX_CPP_PLUGIN_HPP_
#define OBX_CPP_PLUGIN_HPP_

#include <cxxabi.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "obx/obx.h"

namespace obx {

namespace detail {
// The host table handed to the entry point; it outlives every instance.
inline const obx_host_api* g_host_api = nullptr;

inline std::string_view View(obx_str s) {
  return s.size == 0 ? std::string_view() : std::string_view(s.data, s.size);
}
inline obx_str Str(std::string_view s) { return obx_str{s.data(), s.size()}; }

// "<demangled type>: <what>" for the exception being handled.
inline std::string DescribeException(const std::exception& e) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status);
  std::string type = (status == 0 && demangled != nullptr) ? demangled : typeid(e).name();
  std::free(demangled);
  return type + ": " + e.what();
}

inline void SetError(obx_call_ctx* call, std::string_view text) {
  if (g_host_api != nullptr && call != nullptr) g_host_api->set_error(call, Str(text));
}
}  // namespace detail

// Host services for one plugin instance. Thread-safe; valid from construction of the instance
// until its destructor returns.
class Host {
 public:
  Host(const obx_host_api* api, const obx_host_ctx* ctx) : api_(api), ctx_(ctx) {}
  void Log(int32_t level, std::string_view message) const {
    if (api_ != nullptr) api_->log(ctx_, level, detail::Str(message));
  }
  bool LogEnabled(int32_t level) const { return api_ != nullptr && api_->log_enabled(ctx_, level); }
  void Debug(std::string_view m) const { Log(OBX_LOG_DEBUG, m); }
  void Info(std::string_view m) const { Log(OBX_LOG_INFO, m); }
  void Warn(std::string_view m) const { Log(OBX_LOG_WARN, m); }
  void Error(std::string_view m) const { Log(OBX_LOG_ERROR, m); }
  int64_t NowUnixMs() const { return api_ != nullptr ? api_->now_unix_ms() : 0; }
  const obx_host_api* api() const { return api_; }

 private:
  const obx_host_api* api_;
  const obx_host_ctx* ctx_;
};

// What a plugin class receives at construction. config_json is the instance's "config" object.
struct PluginContext {
  const Host& host;
  std::string_view config_json;
};

// A borrowed view of one message; valid only during Handle.
struct Message {
  uint32_t attempt = 0;
  int64_t row_id = 0;
  std::string_view message_id;
  std::string_view topic;
  std::string_view payload;
  std::string_view correlation_id;  // empty when absent
  std::string_view tenant;
  int64_t created_at_unix_ms = 0;
  int64_t due_at_unix_ms = 0;  // 0 when none
};

// The outcome of Handle.
class Result {
 public:
  static Result Ok() { return Result(OBX_OUTCOME_OK, {}, 0); }
  // Transient failure; retry_after 0 lets the host pick the backoff.
  static Result Retry(std::string error,
                      std::chrono::milliseconds retry_after = std::chrono::milliseconds(0)) {
    return Result(OBX_OUTCOME_RETRY, std::move(error), retry_after.count());
  }
  static Result PermanentFailure(std::string error) {
    return Result(OBX_OUTCOME_PERMANENT_FAILURE, std::move(error), 0);
  }
  int32_t outcome() const { return outcome_; }
  const std::string& error() const { return error_; }
  int64_t retry_after_ms() const { return retry_after_ms_; }

 private:
  Result(int32_t outcome, std::string error, int64_t retry_after_ms)
      : outcome_(outcome), error_(std::move(error)), retry_after_ms_(retry_after_ms) {}
  int32_t outcome_;
  std::string error_;
  int64_t retry_after_ms_;
};

// Throw from Handle to fail a message permanently (same as returning Result::PermanentFailure).
class PermanentFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Handler {
 public:
  virtual ~Handler() = default;
  // May be called concurrently from several host threads.
  virtual Result Handle(const Message& message) = 0;
};

struct Database {
  std::string identifier;
  std::string connection_string;
  std::string schema_name;  // empty: host default
  std::string table_name;   // empty: host default
};

class DiscoveryProvider {
 public:
  virtual ~DiscoveryProvider() = default;
  // Returns every current tenant database; throw on failure (the host keeps its current set).
  virtual std::vector<Database> Discover() = 0;
};

namespace detail {

template <class T>
struct Instance {
  Host host;
  std::unique_ptr<T> object;
};

template <class T>
int32_t CreateInstance(const obx_host_ctx* host_ctx, obx_str config, obx_call_ctx* call,
                       void** out) noexcept {
  try {
    auto instance = std::make_unique<Instance<T>>(Instance<T>{Host(g_host_api, host_ctx), nullptr});
    PluginContext ctx{instance->host, View(config)};
    instance->object = std::make_unique<T>(ctx);
    *out = instance.release();
    return OBX_STATUS_OK;
  } catch (const std::invalid_argument& e) {
    SetError(call, e.what());
    return OBX_STATUS_INVALID_ARGUMENT;
  } catch (const std::exception& e) {
    SetError(call, DescribeException(e));
    return OBX_STATUS_ERROR;
  } catch (...) {
    SetError(call, "unknown exception in plugin constructor");
    return OBX_STATUS_ERROR;
  }
}

template <class T>
void DestroyInstance(void* instance) noexcept {
  try {
    delete static_cast<Instance<T>*>(instance);
  } catch (...) {  // a throwing destructor must not cross the ABI
  }
}

template <class T>
int32_t HandleMessage(void* instance, obx_call_ctx* call, const obx_message_view* view,
                      obx_handler_result* result) noexcept {
  try {
    Message m;
    m.attempt = view->attempt;
    m.row_id = view->row_id;
    m.message_id = View(view->message_id);
    m.topic = View(view->topic);
    m.payload = View(view->payload);
    m.correlation_id = View(view->correlation_id);
    m.tenant = View(view->tenant);
    m.created_at_unix_ms = view->created_at_unix_ms;
    m.due_at_unix_ms = view->due_at_unix_ms;
    Result r = static_cast<Instance<T>*>(instance)->object->Handle(m);
    if (!r.error().empty()) SetError(call, r.error());
    result->retry_after_ms = r.retry_after_ms();
    return r.outcome();
  } catch (const PermanentFailure& e) {
    SetError(call, e.what());  // same text as returning Result::PermanentFailure(what)
    return OBX_OUTCOME_PERMANENT_FAILURE;
  } catch (const std::exception& e) {
    SetError(call, DescribeException(e));
    return OBX_OUTCOME_RETRY;
  } catch (...) {
    SetError(call, "unknown exception in handler");
    return OBX_OUTCOME_RETRY;
  }
}

template <class T>
int32_t DiscoverDatabases(void* instance, obx_call_ctx* call) noexcept {
  try {
    std::vector<Database> dbs = static_cast<Instance<T>*>(instance)->object->Discover();
    for (const Database& db : dbs) {
      obx_database_record rec{};
      rec.struct_size = sizeof(rec);
      rec.identifier = Str(db.identifier);
      rec.connection_string = Str(db.connection_string);
      rec.schema_name = Str(db.schema_name);
      rec.table_name = Str(db.table_name);
      g_host_api->emit_database(call, &rec);  // the host logs and skips a malformed record
    }
    return OBX_STATUS_OK;
  } catch (const std::exception& e) {
    SetError(call, DescribeException(e));
    return OBX_STATUS_ERROR;
  } catch (...) {
    SetError(call, "unknown exception in discovery");
    return OBX_STATUS_ERROR;
  }
}

template <class T>
const obx_handler_vtable* HandlerVtable() {
  if constexpr (std::is_void_v<T>) {
    return nullptr;
  } else {
    static_assert(std::is_base_of_v<Handler, T>, "handler class must derive from obx::Handler");
    static const obx_handler_vtable vt = {sizeof(obx_handler_vtable), 0, &CreateInstance<T>,
                                          &DestroyInstance<T>, &HandleMessage<T>};
    return &vt;
  }
}

template <class T>
const obx_discovery_vtable* DiscoveryVtable() {
  if constexpr (std::is_void_v<T>) {
    return nullptr;
  } else {
    static_assert(std::is_base_of_v<DiscoveryProvider, T>,
                  "discovery class must derive from obx::DiscoveryProvider");
    static const obx_discovery_vtable vt = {sizeof(obx_discovery_vtable), 0, &CreateInstance<T>,
                                            &DestroyInstance<T>, &DiscoverDatabases<T>};
    return &vt;
  }
}

template <class H, class D>
int32_t Entry(const obx_host_api* host, const obx_plugin_descriptor** out, const char* name,
              const char* version, const char* description, const char* const* topics) noexcept {
  if (host == nullptr || out == nullptr) return OBX_STATUS_INVALID_ARGUMENT;
  if (host->abi_major != OBX_ABI_MAJOR) return OBX_STATUS_ABI_MISMATCH;
  g_host_api = host;
  static const obx_plugin_descriptor descriptor = {
      sizeof(obx_plugin_descriptor),
      OBX_PLUGIN_MAGIC,
      OBX_ABI_MAJOR,
      OBX_ABI_MINOR,
      name,
      version,
      description,
      (std::is_void_v<H> ? 0u : OBX_KIND_HANDLER) | (std::is_void_v<D> ? 0u : OBX_KIND_DISCOVERY),
      0u,
      topics,
      HandlerVtable<H>(),
      DiscoveryVtable<D>()};
  *out = &descriptor;
  return OBX_STATUS_OK;
}

}  // namespace detail
}  // namespace obx

// Defines the plugin's one exported symbol. HANDLER_CLASS / DISCOVERY_CLASS may be `void`.
// TOPICS: a static NULL-terminated `const char* const[]`, or nullptr for topics from host config.
#define OBX_DEFINE_PLUGIN(NAME, VERSION, DESCRIPTION, HANDLER_CLASS, DISCOVERY_CLASS, TOPICS)   \
  extern "C" OBX_EXPORT int32_t obx_plugin_entry_v1(const obx_host_api* host,                  \
                                                    const obx_plugin_descriptor** out) {       \
    return ::obx::detail::Entry<HANDLER_CLASS, DISCOVERY_CLASS>(host, out, NAME, VERSION,      \
                                                                DESCRIPTION, TOPICS);          \
  }

#define OBX_DEFINE_HANDLER_PLUGIN(CLASS, NAME, VERSION, TOPICS) \
  OBX_DEFINE_PLUGIN(NAME, VERSION, nullptr, CLASS, void, TOPICS)

#define OBX_DEFINE_DISCOVERY_PLUGIN(CLASS, NAME, VERSION) \
  OBX_DEFINE_PLUGIN(NAME, VERSION, nullptr, void, CLASS, nullptr)

#endif  // OBX_CPP_PLUGIN_HPP_
