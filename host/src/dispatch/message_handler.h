// MessageHandler: what the dispatcher calls to deliver one message. The plugin layer adapts a
// loaded handler plugin instance to it (reload/plugin_message_handler.h); tests use fakes.
//
// THREADING: Handle is called concurrently from several worker threads and must be thread-safe.
// It never throws: failures are reported in the HandlerOutcome (plugin/handler_outcome.h, the
// host's one outcome type).
#ifndef OUTBOXD_DISPATCH_MESSAGE_HANDLER_H_
#define OUTBOXD_DISPATCH_MESSAGE_HANDLER_H_

#include <chrono>
#include <string>

#include "plugin/handler_outcome.h"
#include "store/outbox_message.h"

namespace outboxd {

class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  // `tenant` is the store identifier the message came from. From `deadline` on the handler is
  // asked to give up (a plugin's should_abort returns non-zero); it may still return later.
  virtual HandlerOutcome Handle(const OutboxMessage& message, const std::string& tenant,
                                std::chrono::steady_clock::time_point deadline) const = 0;
  // For logs: e.g. "exec@1.0.0".
  virtual std::string Describe() const = 0;
};

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_MESSAGE_HANDLER_H_
