// SdNotifier: systemd's readiness protocol through libsystemd's sd_notify(3), for Type=notify
// units: READY=1 once outboxd is ready (what /readyz would answer 200), RELOADING=1 / READY=1
// around a SIGHUP rescan, STOPPING=1 on shutdown, STATUS=<one line> with tenants and backlog, and
// WATCHDOG=1 while the health check passes when the unit sets WatchdogSec= (WATCHDOG_USEC).
// Everything is a no-op when NOTIFY_SOCKET is unset (not started by systemd).
//
// OWNERSHIP: plain object. THREADING: thread-safe (sd_notify sends one datagram per call).
#ifndef OUTBOXD_OBSERVE_SD_NOTIFIER_H_
#define OUTBOXD_OBSERVE_SD_NOTIFIER_H_

#include <chrono>
#include <string>

namespace outboxd {

class SdNotifier {
 public:
  // Reads NOTIFY_SOCKET and WATCHDOG_USEC (checked against WATCHDOG_PID) from the environment.
  SdNotifier();

  bool enabled() const { return enabled_; }
  // How often WATCHDOG=1 is due (half of WATCHDOG_USEC); zero when there is no watchdog.
  std::chrono::milliseconds watchdog_interval() const { return watchdog_interval_; }

  void Ready(const std::string& status) const;
  void Reloading() const;
  void Stopping() const;
  void Status(const std::string& status) const;
  void Watchdog() const;

 private:
  void Send(const std::string& state) const;
  bool enabled_ = false;
  std::chrono::milliseconds watchdog_interval_{0};
};

}  // namespace outboxd

#endif  // OUTBOXD_OBSERVE_SD_NOTIFIER_H_
