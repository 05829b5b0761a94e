// HandlerInstance: one configured instance of a handler plugin (vtable create .. destroy), and the
// host side of obx_handler_vtable.handle: it builds the message view, calls the plugin and maps
// what comes back into a HandlerOutcome (plugin/handler_outcome.h).
//
// OWNERSHIP: shared; holds its LoadedPlugin, so the plugin's code stays mapped while the instance
// lives. The destructor calls the plugin's destroy: release the last reference only after every
// Handle call has returned (the dispatcher's leases guarantee that).
// THREADING: Create and destruction on the control thread. Handle is thread-safe (the SDK lets
// handle run concurrently on one instance) and never throws. RequestAbort is thread-safe.
#ifndef OUTBOXD_PLUGIN_HANDLER_INSTANCE_H_
#define OUTBOXD_PLUGIN_HANDLER_INSTANCE_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"
#include "plugin/call_context.h"
#include "plugin/handler_outcome.h"
#include "plugin/loaded_plugin.h"
#include "store/outbox_message.h"

namespace outboxd {

class HandlerInstance {
 public:
  // Calls the plugin's create with `config_json` (the instance's "config" object; "" is passed as
  // "{}"). InvalidArgument when `plugin` is null or not a handler, or when create returns
  // OBX_STATUS_INVALID_ARGUMENT; Internal for any other failure (another status, an exception).
  // The message names the plugin and carries the plugin's error text. *out is untouched on failure.
  static Status Create(std::shared_ptr<LoadedPlugin> plugin, const std::string& config_json,
                       std::shared_ptr<HandlerInstance>* out);

  HandlerInstance(const HandlerInstance&) = delete;
  HandlerInstance& operator=(const HandlerInstance&) = delete;
  ~HandlerInstance();  // calls the plugin's destroy

  // Delivers one message: attempt = message.attempts + 1, tenant as given. OK -> kOk; RETRY ->
  // kRetry with retry_after (negative values read as 0); PERMANENT_FAILURE -> kPermanentFailure;
  // any other value, or an exception escaping the plugin -> kRetry with an error naming the plugin.
  // From `deadline` on, the call's should_abort returns non-zero (the plugin may give up early);
  // what that means for the message is the dispatcher's decision (dispatch/delivery_decision.h).
  HandlerOutcome Handle(const OutboxMessage& message, const std::string& tenant,
                        obx_call_ctx::Deadline deadline = obx_call_ctx::kNoDeadline) const;

  // From now on the plugin's should_abort returns non-zero, for calls in flight and later ones
  // (shutdown: handlers that support it finish early and usually return RETRY).
  void RequestAbort() { abort_.store(true, std::memory_order_relaxed); }

  const LoadedPlugin& plugin() const { return *plugin_; }

 private:
  explicit HandlerInstance(std::shared_ptr<LoadedPlugin> plugin);

  const std::shared_ptr<LoadedPlugin> plugin_;  // first member: released last
  const obx_handler_vtable* const vtable_;      // the plugin_'s host copy
  obx_host_ctx host_ctx_;                       // handed to create; outlives destroy
  bool created_ = false;                        // destroy only what create made
  void* instance_ = nullptr;                    // plugin-owned
  std::atomic<bool> abort_{false};
};

}  // namespace outboxd

#endif  // OUTBOXD_PLUGIN_HANDLER_INSTANCE_H_
