// HandlerOutcome: the host's one type for "how did delivering one message go". The ABI's
// OBX_OUTCOME_* codes (obx/handler.h) are mapped into it once, by HandlerInstance::Handle; the
// dispatcher (dispatch/message_handler.h) and its test fakes speak only this type, and
// dispatch/delivery_decision.h turns it into what the store records. (The SDK's obx::Result is the
// plugin author's side of the same ABI codes: header-only, it cannot include host code.)
//
// THREADING: plain value.
#ifndef OUTBOXD_PLUGIN_HANDLER_OUTCOME_H_
#define OUTBOXD_PLUGIN_HANDLER_OUTCOME_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include "obx/handler.h"

namespace outboxd {

struct HandlerOutcome {
  // The values are the ABI's (fixed forever).
  enum class Kind : int32_t {
    kOk = OBX_OUTCOME_OK,
    kRetry = OBX_OUTCOME_RETRY,
    kPermanentFailure = OBX_OUTCOME_PERMANENT_FAILURE,
  };
  Kind kind = Kind::kOk;
  std::chrono::milliseconds retry_after{0};  // kRetry: 0 = the host's back-off
  // kRetry / kPermanentFailure: the reason, becomes last_error (never empty from a plugin: the
  // plugin layer supplies a text naming the plugin when it gave none).
  std::string error;

  static HandlerOutcome Ok() { return HandlerOutcome{}; }
  static HandlerOutcome Retry(std::string error, std::chrono::milliseconds after = {}) {
    return HandlerOutcome{Kind::kRetry, after, std::move(error)};
  }
  static HandlerOutcome PermanentFailure(std::string error) {
    return HandlerOutcome{Kind::kPermanentFailure, {}, std::move(error)};
  }
};

}  // namespace outboxd

#endif  // OUTBOXD_PLUGIN_HANDLER_OUTCOME_H_
