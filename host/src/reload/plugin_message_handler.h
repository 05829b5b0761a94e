// PluginMessageHandler: adapts a handler plugin instance (plugin layer) to the dispatcher's
// MessageHandler. Holding it keeps the instance, and so its plugin generation, alive.
// THREADING: thread-safe (HandlerInstance::Handle is).
#ifndef OUTBOXD_RELOAD_PLUGIN_MESSAGE_HANDLER_H_
#define OUTBOXD_RELOAD_PLUGIN_MESSAGE_HANDLER_H_

#include <chrono>
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

  HandlerOutcome Handle(const OutboxMessage& message, const std::string& tenant,
                        std::chrono::steady_clock::time_point deadline) const override {
    return instance_->Handle(message, tenant, deadline);
  }
  std::string Describe() const override {
    return "plugin '" + instance_->plugin().name() + "' " + instance_->plugin().version();
  }

 private:
  std::shared_ptr<HandlerInstance> instance_;
};

}  // namespace outboxd

#endif  // OUTBOXD_RELOAD_PLUGIN_MESSAGE_HANDLER_H_
