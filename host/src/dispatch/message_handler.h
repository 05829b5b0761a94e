// MessageHandler: what the dispatcher calls to deliver one message. The plugin layer adapts a
// loaded handler plugin instance to it (daemon/plugin_message_handler.h); tests use fakes.
//
// THREADING: Handle is called concurrently from several worker threads and must be thread-safe.
// It never throws: failures are reported in the Delivery.
#ifndef OUTBOXD_DISPATCH_MESSAGE_HANDLER_H_
#define OUTBOXD_DISPATCH_MESSAGE_HANDLER_H_

#include <chrono>
#include <string>

#include "store/outbox_message.h"

namespace outboxd {

struct Delivery {
  enum class Outcome { kOk, kRetry, kPermanentFailure };
  Outcome outcome = Outcome::kOk;
  std::chrono::milliseconds retry_after{0};  // kRetry: 0 = the dispatcher's backoff
  std::string error;                         // kRetry / kPermanentFailure: becomes last_error

  static Delivery Ok() { return Delivery{}; }
  static Delivery Retry(std::string error, std::chrono::milliseconds after = {}) {
    return Delivery{Outcome::kRetry, after, std::move(error)};
  }
  static Delivery PermanentFailure(std::string error) {
    return Delivery{Outcome::kPermanentFailure, {}, std::move(error)};
  }
};

class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  // `tenant` is the store identifier the message came from.
  virtual Delivery Handle(const OutboxMessage& message, const std::string& tenant) const = 0;
  // For logs: e.g. "exec@1.0.0".
  virtual std::string Describe() const = 0;
};

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_MESSAGE_HANDLER_H_
