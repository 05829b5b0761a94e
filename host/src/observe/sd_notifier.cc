#include "observe/sd_notifier.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>

namespace outboxd {
namespace {

// STATUS= is one line.
std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

}  // namespace

SdNotifier::SdNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  uint64_t usec = 0;
  if (enabled_ && sd_watchdog_enabled(/*unset_environment=*/0, &usec) > 0 && usec > 0) {
    watchdog_interval_ = std::chrono::milliseconds(std::max<uint64_t>(1, usec / 2000));
  }
}

void SdNotifier::Send(const std::string& state) const {
  if (enabled_) sd_notify(/*unset_environment=*/0, state.c_str());
}

void SdNotifier::Ready(const std::string& status) const {
  Send("READY=1\nSTATUS=" + OneLine(status));
}

void SdNotifier::Reloading() const {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const uint64_t usec =
      static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
  Send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void SdNotifier::Stopping() const { Send("STOPPING=1"); }

void SdNotifier::Status(const std::string& status) const { Send("STATUS=" + OneLine(status)); }

void SdNotifier::Watchdog() const { Send("WATCHDOG=1"); }

}  // namespace outboxd
