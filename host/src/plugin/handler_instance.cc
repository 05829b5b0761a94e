#include "plugin/handler_instance.h"

#include <exception>
#include <utility>

#include "plugin/create_call.h"

namespace outboxd {
namespace {

obx_str Str(const std::string& s) { return obx_str{s.data(), s.size()}; }

HandlerOutcome Retry(std::string error) { return HandlerOutcome::Retry(std::move(error)); }

// The last resort when even building an error text failed (out of memory).
HandlerOutcome RetryNoThrow(const std::string& plugin) noexcept {
  HandlerOutcome outcome;
  outcome.kind = HandlerOutcome::Kind::kRetry;
  try {
    outcome.error = "plugin '" + plugin + "': host error while delivering the message";
  } catch (...) {
  }
  return outcome;
}

HandlerOutcome MapOutcome(const std::string& plugin, int32_t rc, const obx_handler_result& result,
                          std::string error) {
  switch (rc) {
    case OBX_OUTCOME_OK:
      return HandlerOutcome::Ok();
    case OBX_OUTCOME_RETRY:
      return HandlerOutcome::Retry(
          error.empty() ? "plugin '" + plugin + "' asked for a retry without an error text"
                        : std::move(error),
          std::chrono::milliseconds(result.retry_after_ms > 0 ? result.retry_after_ms : 0));
    case OBX_OUTCOME_PERMANENT_FAILURE:
      return HandlerOutcome::PermanentFailure(
          error.empty()
              ? "plugin '" + plugin + "' reported a permanent failure without an error text"
              : std::move(error));
    default:
      return Retry("plugin '" + plugin + "' returned unknown outcome " + std::to_string(rc) +
                   (error.empty() ? std::string() : ": " + error));
  }
}

}  // namespace

HandlerInstance::HandlerInstance(std::shared_ptr<LoadedPlugin> plugin)
    : plugin_(std::move(plugin)), vtable_(plugin_->handler_vtable()), host_ctx_{plugin_->name()} {}

Status HandlerInstance::Create(std::shared_ptr<LoadedPlugin> plugin, const std::string& config_json,
                               std::shared_ptr<HandlerInstance>* out) {
  if (plugin == nullptr) return Status::InvalidArgument("no plugin given for a handler instance");
  if (!plugin->is_handler()) {
    return Status::InvalidArgument("plugin '" + plugin->name() + "' is not a handler");
  }
  std::shared_ptr<HandlerInstance> handler(new HandlerInstance(std::move(plugin)));
  OBX_RETURN_IF_ERROR(CallCreate(handler->vtable_->create, handler->host_ctx_, config_json,
                                 "handler", &handler->abort_, &handler->instance_));
  handler->created_ = true;
  *out = std::move(handler);
  return Status::OK();
}

HandlerInstance::~HandlerInstance() {
  if (!created_) return;
  try {
    vtable_->destroy(instance_);
  } catch (...) {  // nothing to report it to; the instance is gone either way
  }
}

HandlerOutcome HandlerInstance::Handle(const OutboxMessage& message, const std::string& tenant,
                                       obx_call_ctx::Deadline deadline) const {
  const std::string& name = plugin_->name();
  try {
    obx_message_view view{};
    view.struct_size = sizeof(view);
    view.attempt = message.attempts < 0 ? 1u : static_cast<uint32_t>(message.attempts) + 1u;
    view.row_id = message.id;
    view.message_id = Str(message.message_id);
    view.topic = Str(message.topic);
    view.payload = Str(message.payload);
    if (message.correlation_id.has_value()) view.correlation_id = Str(*message.correlation_id);
    view.tenant = Str(tenant);
    view.created_at_unix_ms = message.created_at_ms;
    view.due_at_unix_ms = message.due_at_ms.value_or(0);

    obx_handler_result result{};
    result.struct_size = sizeof(result);
    obx_call_ctx call(&host_ctx_, &abort_, /*database_sink=*/nullptr, deadline);
    int32_t rc = OBX_OUTCOME_RETRY;
    try {
      rc = vtable_->handle(instance_, &call, &view, &result);
    } catch (const std::exception& e) {
      return Retry("plugin '" + name + "' threw from handle: " + e.what());
    } catch (...) {
      return Retry("plugin '" + name + "' threw an exception of unknown type from handle");
    }
    return MapOutcome(name, rc, result, call.TakeError());
  } catch (...) {  // out of memory while copying text: still an outcome, never an exception
    return RetryNoThrow(name);
  }
}

}  // namespace outboxd
