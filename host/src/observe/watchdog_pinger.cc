#include "observe/watchdog_pinger.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace outboxd {

WatchdogPinger::WatchdogPinger(std::chrono::milliseconds interval,
                               std::function<std::string()> check, std::function<void()> ping)
    : interval_(std::max(interval, std::chrono::milliseconds(1))),
      check_(std::move(check)),
      ping_(std::move(ping)) {}

WatchdogPinger::~WatchdogPinger() { Stop(); }

void WatchdogPinger::Start() {
  if (thread_.joinable()) return;
  {
    MutexLock lock(&mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void WatchdogPinger::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.NotifyAll();
  if (thread_.joinable()) thread_.join();
}

bool WatchdogPinger::RunOnce() {
  const std::string problem = check_();
  if (!problem.empty()) {
    spdlog::error("Not healthy, withholding the systemd watchdog ping: {}", problem);
    return false;
  }
  ping_();
  return true;
}

void WatchdogPinger::Loop() {
  for (;;) {
    RunOnce();
    MutexLock lock(&mu_);
    if (cv_.WaitFor(&mu_, interval_, [this]() REQUIRES(mu_) { return stop_; })) return;
  }
}

}  // namespace outboxd
