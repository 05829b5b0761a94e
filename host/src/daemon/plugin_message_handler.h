// PluginMessageHandler: adapts a handler plugin instance (plugin layer) to the dispatcher's
// MessageHandler. Holding it keeps the instance, and so its plugin generation, alive.
// THREADING: thread-safe (HandlerInstance::Handle is).
#ifndef OUTBOXD_DAEMON_PLUGIN_MESSAGE_HANDLER_H_
#define OUTBOXD_DAEMON_PLUGIN_MESSAGE_HANDLER_H_

#include <memory>
#include <string>
#include <utility>

#include "dispatch/message_handler.h"
#include "plugin/handler_instance.h"
#include "plugin/loaded_plugin.h"

namespace outboxd {

class PluginMessageHandler : public MessageHandler {
 public:
  explicit PluginMessageHandler(std::shared_ptr<HandlerInstance> instance)
      : instance_(std::move(instance)) {}

  Delivery Handle(const OutboxMessage& message, const std::string& tenant) const override {
    HandlerOutcome o = instance_->Handle(message, tenant);
    switch (o.kind) {
      case HandlerOutcome::Kind::kOk: return Delivery::Ok();
      case HandlerOutcome::Kind::kPermanentFailure: return Delivery::PermanentFailure(std::move(o.error));
      case HandlerOutcome::Kind::kRetry: break;
    }
    return Delivery::Retry(std::move(o.error), o.retry_after);
  }
  std::string Describe() const override {
    return "plugin '" + instance_->plugin().name() + "' " + instance_->plugin().version();
  }

 private:
  std::shared_ptr<HandlerInstance> instance_;
};

}  // namespace outboxd

#endif  // OUTBOXD_DAEMON_PLUGIN_MESSAGE_HANDLER_H_
