#include "plugin/call_context.h"

#include <utility>

void obx_call_ctx::SetError(std::string_view text) {
  std::string copy(text.substr(0, kMaxErrorBytes));
  outboxd::MutexLock lock(&mu_);
  error_ = std::move(copy);
}

std::string obx_call_ctx::TakeError() {
  outboxd::MutexLock lock(&mu_);
  return std::exchange(error_, std::string());
}
