// FakeMessageHandler: records every delivery and answers with a scripted outcome (a fixed
// HandlerOutcome or a function of the message). THREADING: thread-safe.
#ifndef OUTBOXD_TESTS_FAKES_FAKE_MESSAGE_HANDLER_H_
#define OUTBOXD_TESTS_FAKES_FAKE_MESSAGE_HANDLER_H_

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "dispatch/message_handler.h"

namespace outboxd::testing {

class FakeMessageHandler : public MessageHandler {
 public:
  struct Call {
    OutboxMessage message;
    std::string tenant;
    std::chrono::steady_clock::time_point deadline;
  };
  explicit FakeMessageHandler(std::string name = "fake")
      : name_(std::move(name)), script_([](const OutboxMessage&) { return HandlerOutcome::Ok(); }) {}

  void Answer(HandlerOutcome d) {
    std::lock_guard<std::mutex> lock(mu_);
    script_ = [d](const OutboxMessage&) { return d; };
  }
  void Script(std::function<HandlerOutcome(const OutboxMessage&)> f) {
    std::lock_guard<std::mutex> lock(mu_);
    script_ = std::move(f);
  }
  std::vector<Call> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

  HandlerOutcome Handle(const OutboxMessage& message, const std::string& tenant,
                        std::chrono::steady_clock::time_point deadline) const override {
    std::function<HandlerOutcome(const OutboxMessage&)> script;
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.push_back({message, tenant, deadline});
      script = script_;
    }
    return script(message);
  }
  std::string Describe() const override { return name_; }

 private:
  std::string name_;
  mutable std::mutex mu_;
  mutable std::vector<Call> calls_;
  std::function<HandlerOutcome(const OutboxMessage&)> script_;
};

}  // namespace outboxd::testing

#endif  // OUTBOXD_TESTS_FAKES_FAKE_MESSAGE_HANDLER_H_
