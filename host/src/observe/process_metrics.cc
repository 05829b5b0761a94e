#include "observe/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "observe/metric_text.h"

namespace outboxd {
namespace {

// Seconds since the epoch at boot (the "btime" line of /proc/stat), or -1.
double BootTime() {
  std::ifstream in("/proc/stat");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
  }
  return -1;
}

}  // namespace

std::vector<prometheus::MetricFamily> CollectProcessMetrics() {
  std::vector<prometheus::MetricFamily> out;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');  // the command name may hold spaces and parentheses
  if (close != std::string::npos && ticks > 0) {
    std::istringstream fields(stat.substr(close + 2));
    std::string f[24];  // fields 3.. of proc(5): state is f[0]
    for (auto& x : f) fields >> x;
    try {
      const double utime = std::stod(f[11]);   // field 14
      const double stime = std::stod(f[12]);   // field 15
      const double start = std::stod(f[19]);   // field 22, ticks after boot
      const double vsize = std::stod(f[20]);   // field 23, bytes
      const double rss = std::stod(f[21]);     // field 24, pages
      out.push_back(ScalarFamily("process_cpu_seconds_total",
                                 "Total user and system CPU time spent in seconds.",
                                 prometheus::MetricType::Counter, (utime + stime) / ticks));
      out.push_back(ScalarFamily("process_resident_memory_bytes", "Resident memory size in bytes.",
                                 prometheus::MetricType::Gauge, rss * page));
      out.push_back(ScalarFamily("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                                 prometheus::MetricType::Gauge, vsize));
      const double boot = BootTime();
      if (boot >= 0) {
        out.push_back(ScalarFamily("process_start_time_seconds",
                                   "Start time of the process since unix epoch in seconds.",
                                   prometheus::MetricType::Gauge, boot + start / ticks));
      }
    } catch (const std::exception&) {
      // unreadable: left out
    }
  }
  std::error_code ec;
  double fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++fds;
  }
  if (!ec) {
    out.push_back(ScalarFamily("process_open_fds", "Number of open file descriptors.",
                               prometheus::MetricType::Gauge, fds));
  }
  struct rlimit limit {};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    out.push_back(ScalarFamily("process_max_fds", "Maximum number of open file descriptors.",
                               prometheus::MetricType::Gauge,
                               static_cast<double>(limit.rlim_cur)));
  }
  return out;
}

}  // namespace outboxd
