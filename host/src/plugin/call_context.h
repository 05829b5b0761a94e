// The host's definitions of the SDK's two opaque handles (obx/types.h), and DatabaseSink, the
// receiver of records a discovery plugin emits.
//
// obx_host_ctx: one per plugin instance (HandlerInstance, DiscoveryInstance), owned by that
//   instance and valid from create until destroy returns. It names the plugin so HostApi().log can
//   attribute lines. Immutable after construction: any thread may read it.
// obx_call_ctx: one per hook call (create, handle, discover), living on the stack of the host
// thread
//   that makes the call and valid until the call returns. It collects the plugin's error text
//   (set_error, last call wins), forwards emitted databases to a DatabaseSink (discovery only) and
//   answers should_abort: non-zero once the owning instance's abort flag is set (shutdown) or the
//   call's deadline has passed (handle: dispatch.handler_timeout). Neither pointer is owned.
//
// THREADING: the SDK lets a plugin call set_error/emit_database/should_abort from its own helper
// threads while the hook runs, so SetError/TakeError are guarded by a mutex and DatabaseSink
// implementations must be thread-safe.
#ifndef OUTBOXD_PLUGIN_CALL_CONTEXT_H_
#define OUTBOXD_PLUGIN_CALL_CONTEXT_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/mutex.h"
#include "plugin/exit_guard.h"
#include "obx/discovery.h"
#include "obx/types.h"

namespace outboxd {

// Receives the records of one discover call. Emit validates and copies the record and returns
// OBX_STATUS_OK, or OBX_STATUS_INVALID_ARGUMENT after logging why the record was skipped.
class DatabaseSink {
 public:
  virtual ~DatabaseSink() = default;
  virtual int32_t Emit(const obx_database_record& record) = 0;
};

}  // namespace outboxd

struct obx_host_ctx {
  std::string plugin_name;
};

struct obx_call_ctx {
  using Deadline = std::chrono::steady_clock::time_point;
  static constexpr Deadline kNoDeadline = Deadline::max();

  obx_call_ctx(const obx_host_ctx* host_ctx, const std::atomic<bool>* abort_flag,
               outboxd::DatabaseSink* database_sink = nullptr, Deadline call_deadline = kNoDeadline)
      : host(host_ctx), abort(abort_flag), sink(database_sink), deadline(call_deadline) {}
  obx_call_ctx(const obx_call_ctx&) = delete;
  obx_call_ctx& operator=(const obx_call_ctx&) = delete;

  // Copies at most kMaxErrorBytes of `text`; the last call wins.
  void SetError(std::string_view text);
  // The text recorded by set_error ("" when none), leaving the context empty.
  std::string TakeError();
  // One relaxed load, plus a steady-clock read when the call has a deadline.
  bool ShouldAbort() const {
    if (abort != nullptr && abort->load(std::memory_order_relaxed)) return true;
    return deadline != kNoDeadline && std::chrono::steady_clock::now() >= deadline;
  }
  std::string_view plugin_name() const {
    return host != nullptr ? std::string_view(host->plugin_name) : std::string_view("?");
  }

  // Plenty for a diagnostic; the dispatcher truncates last_error to 2048 characters anyway.
  static constexpr size_t kMaxErrorBytes = 16 * 1024;

  const obx_host_ctx* const host;        // may be null (calls made outside any instance)
  const std::atomic<bool>* const abort;  // may be null: should_abort then always returns 0
  outboxd::DatabaseSink* const sink;     // null outside discover
  const Deadline deadline;               // kNoDeadline: none

 private:
  // Names this plugin if it calls exit() on this thread during the call (plugin/exit_guard.h).
  outboxd::PluginCallScope exit_scope_{host != nullptr ? &host->plugin_name : nullptr};
  outboxd::Mutex mu_;
  std::string error_ GUARDED_BY(mu_);
};

#endif  // OUTBOXD_PLUGIN_CALL_CONTEXT_H_
