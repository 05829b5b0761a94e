// outboxd SDK, testing: FakeHost, an in-memory host for a plugin's unit tests (no outboxd needed).
//
//   obx::testing::FakeHost host;
//   const obx_plugin_descriptor* d = host.Enter(&obx_plugin_entry_v1);   // or a dlsym'd entry
//   auto created = host.CreateHandler(d, R"({"file": "/tmp/out.jsonl"})");
//   ASSERT_TRUE(created.ok()) << created.error;
//   obx::testing::FakeMessage m;  m.topic = "email.send";  m.payload = R"({"to": "a@b.c"})";
//   obx::testing::HandleResult r = created.instance->Handle(m);
//   EXPECT_EQ(r.outcome, OBX_OUTCOME_OK) << r.error;
//
// What it fakes (the obx_host_api table, see obx/host_api.h):
//   - log / log_enabled: every line is captured (Logs(), HasLog()); the threshold is settable;
//   - now_unix_ms / now_monotonic_ns: a settable clock (SetNowUnixMs, AdvanceMs) starting at a
//     fixed instant, so tests never depend on the real time;
//   - set_error: captured per call and returned in CreateResult/HandleResult/DiscoverResult.error;
//   - emit_database: copied into DiscoverResult.records; a record the real host would skip is
//     rejected with OBX_STATUS_INVALID_ARGUMENT, counted in DiscoverResult.rejected and its reason
//     kept in DiscoverResult.rejections. The rules are the host's own (obx/cpp/validate.hpp: empty
//     or over-long fields, invalid UTF-8, control characters including NUL, short struct_size, an
//     identifier repeated in one listing);
//   - Enter: the descriptor must pass the host's descriptor checks (validate.hpp, same rules);
//   - should_abort: settable (SetShouldAbort).
//
// OWNERSHIP: the FakeHost owns every obx_host_ctx / obx_call_ctx it hands out; instances returned
// by CreateHandler / CreateDiscovery own the plugin instance and call destroy in their destructor,
// so they must not outlive the FakeHost. The obx_host_api table itself is static (process
// lifetime), so a plugin that keeps the table pointer past a FakeHost's life never dangles.
//
// THREADING: thread-safe like the real host: Handle may be called from several threads at once on
// one instance. Functions without a context argument (the clock, log with a NULL ctx) go to the
// most recently constructed live FakeHost, so use one FakeHost at a time per process.
#ifndef OBX_TESTING_FAKE_HOST_HPP_
#define OBX_TESTING_FAKE_HOST_HPP_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "obx/cpp/validate.hpp"
#include "obx/obx.h"

namespace obx::testing {

// One captured log line. `instance` is the label given at CreateHandler/CreateDiscovery (empty for
// lines logged with a NULL context, i.e. by the plugin itself).
struct LogLine {
  std::string instance;
  int32_t level = OBX_LOG_INFO;
  std::string text;
};

// One database handed over through emit_database (copied).
struct DatabaseRecord {
  std::string identifier;
  std::string connection_string;
  std::string schema_name;  // empty when the plugin left it unset
  std::string table_name;   // empty when the plugin left it unset
};

// A message to deliver; converted to an obx_message_view for the handle call.
struct FakeMessage {
  uint32_t attempt = 1;
  int64_t row_id = 1;
  std::string message_id = "00000000-0000-0000-0000-000000000001";
  std::string topic = "test.topic";
  std::string payload = "{}";
  std::string correlation_id;
  std::string tenant = "tenant-1";
  int64_t created_at_unix_ms = 0;
  int64_t due_at_unix_ms = 0;
};

struct HandleResult {
  int32_t outcome = -1;        // OBX_OUTCOME_*
  std::string error;           // text passed to set_error (empty when none)
  int64_t retry_after_ms = 0;  // obx_handler_result.retry_after_ms
};

struct DiscoverResult {
  int32_t status = -1;                  // OBX_STATUS_*
  std::string error;                    // text passed to set_error (empty when none)
  std::vector<DatabaseRecord> records;  // accepted records, in emit order
  int rejected = 0;                     // records refused as malformed
  std::vector<std::string> rejections;  // why each was refused, in emit order (the host's words)
  bool ok() const { return status == OBX_STATUS_OK; }
};

class FakeHost;

namespace detail {

// What an obx_host_ctx* handed to the plugin really points at.
struct FakeInstanceCtx {
  FakeHost* host;
  std::string label;
};

// What an obx_call_ctx* handed to the plugin really points at. One per hook call.
struct FakeCallCtx {
  explicit FakeCallCtx(FakeHost* h) : host(h) {}
  FakeHost* host;
  bool error_set = false;
  std::string error;
  std::mutex mu;  // emit_database may be called from plugin helper threads
  std::vector<DatabaseRecord> records;      // guarded by mu
  std::set<std::string> identifiers;        // guarded by mu
  int rejected = 0;                         // guarded by mu
  std::vector<std::string> rejections;      // guarded by mu
};

inline std::atomic<FakeHost*>& CurrentHost() {
  static std::atomic<FakeHost*> current{nullptr};
  return current;
}

inline std::string Copy(obx_str s) {
  return s.size == 0 || s.data == nullptr ? std::string() : std::string(s.data, s.size);
}

inline obx_str View(const std::string& s) { return obx_str{s.data(), s.size()}; }

inline obx_call_ctx* ToCall(FakeCallCtx* c) { return reinterpret_cast<obx_call_ctx*>(c); }
inline FakeCallCtx* FromCall(obx_call_ctx* c) { return reinterpret_cast<FakeCallCtx*>(c); }
inline const obx_host_ctx* ToHostCtx(const FakeInstanceCtx* c) {
  return reinterpret_cast<const obx_host_ctx*>(c);
}
inline const FakeInstanceCtx* FromHostCtx(const obx_host_ctx* c) {
  return reinterpret_cast<const FakeInstanceCtx*>(c);
}

inline void ApiLog(const obx_host_ctx* ctx, int32_t level, obx_str message);
inline int32_t ApiLogEnabled(const obx_host_ctx* ctx, int32_t level);
inline int64_t ApiNowUnixMs();
inline int64_t ApiNowMonotonicNs();
inline void ApiSetError(obx_call_ctx* call, obx_str text);
inline int32_t ApiEmitDatabase(obx_call_ctx* call, const obx_database_record* record);
inline int32_t ApiShouldAbort(obx_call_ctx* call);

// The one table every FakeHost hands out (static storage, like the real host's).
inline const obx_host_api* FakeApiTable() {
  static const obx_host_api api = {
      sizeof(obx_host_api),      OBX_ABI_MAJOR, OBX_ABI_MINOR,    0,
      obx_str{"0.0.0-fake", 10}, &ApiLog,       &ApiLogEnabled,   &ApiNowUnixMs,
      &ApiNowMonotonicNs,        &ApiSetError,  &ApiEmitDatabase, &ApiShouldAbort};
  return &api;
}

}  // namespace detail

// A created handler instance; destroys the plugin instance at destruction.
class HandlerInstance {
 public:
  HandlerInstance(FakeHost* host, const obx_handler_vtable* vtable, void* instance,
                  std::unique_ptr<detail::FakeInstanceCtx> ctx)
      : host_(host), vtable_(vtable), instance_(instance), ctx_(std::move(ctx)) {}
  ~HandlerInstance() { vtable_->destroy(instance_); }
  HandlerInstance(const HandlerInstance&) = delete;
  HandlerInstance& operator=(const HandlerInstance&) = delete;

  // Calls handle once. Thread-safe to the extent the plugin's handle is.
  HandleResult Handle(const FakeMessage& m) const {
    obx_message_view view{};
    view.struct_size = sizeof(view);
    view.attempt = m.attempt;
    view.row_id = m.row_id;
    view.message_id = detail::View(m.message_id);
    view.topic = detail::View(m.topic);
    view.payload = detail::View(m.payload);
    view.correlation_id = detail::View(m.correlation_id);
    view.tenant = detail::View(m.tenant);
    view.created_at_unix_ms = m.created_at_unix_ms;
    view.due_at_unix_ms = m.due_at_unix_ms;
    obx_handler_result result{};
    result.struct_size = sizeof(result);
    detail::FakeCallCtx call{host_};
    HandleResult out;
    out.outcome = vtable_->handle(instance_, detail::ToCall(&call), &view, &result);
    out.error = std::move(call.error);
    out.retry_after_ms = result.retry_after_ms;
    return out;
  }

 private:
  FakeHost* host_;
  const obx_handler_vtable* vtable_;
  void* instance_;
  std::unique_ptr<detail::FakeInstanceCtx> ctx_;
};

// A created discovery instance; destroys the plugin instance at destruction.
class DiscoveryInstance {
 public:
  DiscoveryInstance(FakeHost* host, const obx_discovery_vtable* vtable, void* instance,
                    std::unique_ptr<detail::FakeInstanceCtx> ctx)
      : host_(host), vtable_(vtable), instance_(instance), ctx_(std::move(ctx)) {}
  ~DiscoveryInstance() { vtable_->destroy(instance_); }
  DiscoveryInstance(const DiscoveryInstance&) = delete;
  DiscoveryInstance& operator=(const DiscoveryInstance&) = delete;

  // Calls discover once. Like the real host, records emitted before a failure are discarded.
  DiscoverResult Discover() const {
    detail::FakeCallCtx call{host_};
    DiscoverResult out;
    out.status = vtable_->discover(instance_, detail::ToCall(&call));
    out.error = std::move(call.error);
    out.rejected = call.rejected;
    out.rejections = std::move(call.rejections);
    if (out.status == OBX_STATUS_OK) out.records = std::move(call.records);
    return out;
  }

 private:
  FakeHost* host_;
  const obx_discovery_vtable* vtable_;
  void* instance_;
  std::unique_ptr<detail::FakeInstanceCtx> ctx_;
};

// Result of CreateHandler / CreateDiscovery: the instance on success, else status + error text.
template <class Instance>
struct CreateResult {
  int32_t status = -1;  // OBX_STATUS_*
  std::string error;    // text passed to set_error (empty when none)
  std::unique_ptr<Instance> instance;
  bool ok() const { return status == OBX_STATUS_OK && instance != nullptr; }
};

class FakeHost {
 public:
  static constexpr int64_t kDefaultNowUnixMs = 1700000000000;  // 2023-11-14T22:13:20Z

  FakeHost() { detail::CurrentHost().store(this); }
  ~FakeHost() {
    FakeHost* self = this;
    detail::CurrentHost().compare_exchange_strong(self, nullptr);
  }
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;

  // The host services table to hand to a plugin entry point.
  const obx_host_api* api() const { return detail::FakeApiTable(); }

  // Calls a plugin entry point with this host's table. Throws std::runtime_error when the entry
  // fails or returns a descriptor that the host would reject (the reason is the host's).
  const obx_plugin_descriptor* Enter(obx_plugin_entry_fn entry) {
    detail::CurrentHost().store(this);
    const obx_plugin_descriptor* d = nullptr;
    int32_t status = entry(api(), &d);
    if (status != OBX_STATUS_OK) {
      throw std::runtime_error("plugin entry returned status " + std::to_string(status));
    }
    if (d == nullptr) throw std::runtime_error("plugin entry returned no descriptor");
    const std::string problem = validate::DescriptorProblem(*d);
    if (!problem.empty()) {
      throw std::runtime_error("plugin entry returned an invalid descriptor: " + problem);
    }
    return d;
  }

  // Creates a handler instance from a descriptor with the given config JSON.
  CreateResult<HandlerInstance> CreateHandler(const obx_plugin_descriptor* d,
                                              const std::string& config_json = "{}",
                                              const std::string& label = "handler") {
    CreateResult<HandlerInstance> out;
    if ((d->kinds & OBX_KIND_HANDLER) == 0 || d->handler == nullptr) {
      out.status = OBX_STATUS_INVALID_ARGUMENT;
      out.error = "plugin is not a handler";
      return out;
    }
    auto ctx = std::make_unique<detail::FakeInstanceCtx>(detail::FakeInstanceCtx{this, label});
    void* instance = nullptr;
    detail::FakeCallCtx call{this};
    out.status = d->handler->create(detail::ToHostCtx(ctx.get()), detail::View(config_json),
                                    detail::ToCall(&call), &instance);
    out.error = std::move(call.error);
    if (out.status == OBX_STATUS_OK) {
      out.instance = std::make_unique<HandlerInstance>(this, d->handler, instance, std::move(ctx));
    }
    return out;
  }

  // Creates a discovery instance from a descriptor with the given config JSON.
  CreateResult<DiscoveryInstance> CreateDiscovery(const obx_plugin_descriptor* d,
                                                  const std::string& config_json = "{}",
                                                  const std::string& label = "discovery") {
    CreateResult<DiscoveryInstance> out;
    if ((d->kinds & OBX_KIND_DISCOVERY) == 0 || d->discovery == nullptr) {
      out.status = OBX_STATUS_INVALID_ARGUMENT;
      out.error = "plugin is not a discovery provider";
      return out;
    }
    auto ctx = std::make_unique<detail::FakeInstanceCtx>(detail::FakeInstanceCtx{this, label});
    void* instance = nullptr;
    detail::FakeCallCtx call{this};
    out.status = d->discovery->create(detail::ToHostCtx(ctx.get()), detail::View(config_json),
                                      detail::ToCall(&call), &instance);
    out.error = std::move(call.error);
    if (out.status == OBX_STATUS_OK) {
      out.instance =
          std::make_unique<DiscoveryInstance>(this, d->discovery, instance, std::move(ctx));
    }
    return out;
  }

  // --- log capture ---
  std::vector<LogLine> Logs() const {
    std::lock_guard<std::mutex> lock(mu_);
    return logs_;
  }
  // True when some captured line contains `needle` (at `level`, or any level when level < 0).
  bool HasLog(std::string_view needle, int32_t level = -1) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const LogLine& l : logs_) {
      if ((level < 0 || l.level == level) && l.text.find(needle) != std::string::npos) return true;
    }
    return false;
  }
  void ClearLogs() {
    std::lock_guard<std::mutex> lock(mu_);
    logs_.clear();
  }
  // Lines below `level` are neither captured nor reported enabled. Default: OBX_LOG_TRACE (all).
  void SetLogLevel(int32_t level) { log_level_.store(level); }
  int32_t log_level() const { return log_level_.load(); }

  // --- clock ---
  void SetNowUnixMs(int64_t ms) { now_unix_ms_.store(ms); }
  void AdvanceMs(int64_t ms) {
    now_unix_ms_.fetch_add(ms);
    monotonic_ns_.fetch_add(ms * 1000000);
  }
  int64_t now_unix_ms() const { return now_unix_ms_.load(); }
  int64_t now_monotonic_ns() const { return monotonic_ns_.load(); }

  // --- shutdown flag seen through should_abort ---
  void SetShouldAbort(bool abort) { should_abort_.store(abort); }
  bool should_abort() const { return should_abort_.load(); }

  // Called by the table's log function.
  void AddLog(std::string instance, int32_t level, std::string text) {
    if (level < log_level_.load()) return;
    std::lock_guard<std::mutex> lock(mu_);
    logs_.push_back(LogLine{std::move(instance), level, std::move(text)});
  }

 private:
  mutable std::mutex mu_;
  std::vector<LogLine> logs_;  // guarded by mu_
  std::atomic<int32_t> log_level_{OBX_LOG_TRACE};
  std::atomic<int64_t> now_unix_ms_{kDefaultNowUnixMs};
  std::atomic<int64_t> monotonic_ns_{1000000000};
  std::atomic<bool> should_abort_{false};
};

namespace detail {

inline FakeHost* HostOf(const obx_host_ctx* ctx) {
  return ctx != nullptr ? FromHostCtx(ctx)->host : CurrentHost().load();
}

inline void ApiLog(const obx_host_ctx* ctx, int32_t level, obx_str message) {
  FakeHost* host = HostOf(ctx);
  if (host == nullptr) return;
  host->AddLog(ctx != nullptr ? FromHostCtx(ctx)->label : std::string(), level, Copy(message));
}

inline int32_t ApiLogEnabled(const obx_host_ctx* ctx, int32_t level) {
  FakeHost* host = HostOf(ctx);
  return host != nullptr && level >= host->log_level() ? 1 : 0;
}

inline int64_t ApiNowUnixMs() {
  FakeHost* host = CurrentHost().load();
  return host != nullptr ? host->now_unix_ms() : FakeHost::kDefaultNowUnixMs;
}

inline int64_t ApiNowMonotonicNs() {
  FakeHost* host = CurrentHost().load();
  return host != nullptr ? host->now_monotonic_ns() : 0;
}

inline void ApiSetError(obx_call_ctx* call, obx_str text) {
  if (call == nullptr) return;
  FakeCallCtx* c = FromCall(call);
  c->error_set = true;
  c->error = Copy(text);
}

inline int32_t ApiEmitDatabase(obx_call_ctx* call, const obx_database_record* record) {
  if (call == nullptr) return OBX_STATUS_INVALID_ARGUMENT;
  FakeCallCtx* c = FromCall(call);
  std::lock_guard<std::mutex> lock(c->mu);
  std::string problem = record == nullptr ? "no record" : validate::RecordProblem(*record);
  if (problem.empty() && !c->identifiers.insert(Copy(record->identifier)).second) {
    problem = validate::kDuplicateIdentifier;
  }
  if (!problem.empty()) {
    ++c->rejected;
    c->rejections.push_back(std::move(problem));
    return OBX_STATUS_INVALID_ARGUMENT;
  }
  c->records.push_back(DatabaseRecord{Copy(record->identifier), Copy(record->connection_string),
                                      Copy(record->schema_name), Copy(record->table_name)});
  return OBX_STATUS_OK;
}

inline int32_t ApiShouldAbort(obx_call_ctx* call) {
  return call != nullptr && FromCall(call)->host != nullptr && FromCall(call)->host->should_abort()
             ? 1
             : 0;
}

}  // namespace detail
}  // namespace obx::testing

#endif  // OBX_TESTING_FAKE_HOST_HPP_
