#include "dispatch/handler_watchdog.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "dispatch/delivery_decision.h"

namespace outboxd {

HandlerWatchdog::HandlerWatchdog(std::chrono::milliseconds timeout, Report report,
                                 Stalled stalled)
    : timeout_(timeout),
      report_(report ? std::move(report) : Report(&LogOverdue)),
      stalled_(std::move(stalled)) {}

HandlerWatchdog::~HandlerWatchdog() {
  std::thread thread;
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    thread = std::move(thread_);
  }
  wake_cv_.NotifyAll();
  if (thread.joinable()) thread.join();
}

void HandlerWatchdog::Enter(int worker, const std::string& tenant, const OutboxMessage& message,
                            const MessageHandler& handler, TimePoint deadline, void* cookie,
                            TimePoint stalled_at) {
  if (!stalled_) cookie = nullptr;
  MutexLock lock(&mu_);
  if (static_cast<std::size_t>(worker) >= slots_.size()) slots_.resize(worker + 1);
  Slot& slot = slots_[worker];
  slot = Slot{};
  slot.active = true;
  slot.deadline = deadline;
  slot.tenant = &tenant;
  slot.message = &message;
  slot.handler = &handler;
  slot.cookie = cookie;
  slot.stalled_at = cookie != nullptr ? stalled_at : TimePoint::max();
  if (!thread_.joinable() && !stopping_) thread_ = std::thread([this] { Run(); });
  if (std::min(deadline, slot.stalled_at) < wake_at_) {
    kicked_ = true;
    wake_cv_.NotifyOne();
  }
}

bool HandlerWatchdog::Leave(int worker) {
  std::optional<Overdue> late;  // a call that ended past its deadline before the thread saw it
  bool stalled = false;
  {
    MutexLock lock(&mu_);
    if (static_cast<std::size_t>(worker) >= slots_.size()) return false;
    stalled_cv_.Wait(&mu_, [this, worker]() REQUIRES(mu_) { return !slots_[worker].stalling; });
    Slot& slot = slots_[worker];
    stalled = slot.stalled;
    if (slot.active && !slot.reported && slot.deadline <= std::chrono::steady_clock::now()) {
      // E.g. a plugin that polled should_abort and gave up at the deadline: it passed it, so it
      // is reported (once), whether or not the thread woke in time.
      slot.reported = true;
      ++overdue_;
      late = Overdue{*slot.tenant, slot.message->topic, slot.message->message_id,
                     slot.handler->Describe(), timeout_};
    }
    slot = Slot{};
  }
  if (late) report_(*late);
  return stalled;
}

int64_t HandlerWatchdog::overdue() const {
  MutexLock lock(&mu_);
  return overdue_;
}

void HandlerWatchdog::Run() {
  MutexLock lock(&mu_);
  std::vector<Overdue> due;
  std::vector<std::pair<int, void*>> stalled;  // worker, cookie
  while (!stopping_) {
    const TimePoint now = std::chrono::steady_clock::now();
    TimePoint earliest = TimePoint::max();
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      Slot& slot = slots_[i];
      if (!slot.active) continue;
      if (slot.cookie != nullptr) {
        if (slot.stalled_at <= now) {
          stalled.emplace_back(static_cast<int>(i), slot.cookie);
          slot.cookie = nullptr;
          slot.stalling = true;
        } else {
          earliest = std::min(earliest, slot.stalled_at);
        }
      }
      if (slot.reported) continue;
      if (slot.deadline > now) {
        earliest = std::min(earliest, slot.deadline);
        continue;
      }
      // Copied under the lock: the worker may Leave (and its batch end) once it is dropped.
      slot.reported = true;
      due.push_back(Overdue{*slot.tenant, slot.message->topic, slot.message->message_id,
                            slot.handler->Describe(), timeout_});
    }
    if (!due.empty() || !stalled.empty()) {
      overdue_ += static_cast<int64_t>(due.size());
      lock.Unlock();
      for (const Overdue& call : due) report_(call);
      for (const auto& [worker, cookie] : stalled) stalled_(cookie);
      lock.Lock();
      for (const auto& [worker, cookie] : stalled) {
        slots_[worker].stalling = false;
        slots_[worker].stalled = true;
      }
      if (!stalled.empty()) stalled_cv_.NotifyAll();
      due.clear();
      stalled.clear();
      continue;  // calls may have come and gone meanwhile: look again
    }
    wake_at_ = earliest;
    kicked_ = false;
    auto woken = [this]() REQUIRES(mu_) { return stopping_ || kicked_; };
    if (earliest == TimePoint::max()) {
      wake_cv_.Wait(&mu_, woken);
    } else {
      wake_cv_.WaitUntil(&mu_, earliest, woken);
    }
  }
}

void HandlerWatchdog::LogOverdue(const Overdue& call) {
  spdlog::warn("Handler call for outbox message {} (topic '{}') in store '{}' has run past {} in "
               "{}; it was asked to give up (should_abort), and its worker stays blocked until "
               "it returns",
               call.message_id, call.topic, call.tenant, HandlerTimeoutSetting(call.timeout),
               call.handler);
}

}  // namespace outboxd
