// ProcessMetrics: the standard process_* families of the Prometheus client guidelines, read from
// /proc/self at scrape time: process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds, process_start_time_seconds.
// A value that cannot be read is left out (never an error: a scrape must not fail on it).
//
// THREADING: a pure function; safe from any thread.
#ifndef OUTBOXD_OBSERVE_PROCESS_METRICS_H_
#define OUTBOXD_OBSERVE_PROCESS_METRICS_H_

#include <vector>

#include <prometheus/metric_family.h>

namespace outboxd {

std::vector<prometheus::MetricFamily> CollectProcessMetrics();

}  // namespace outboxd

#endif  // OUTBOXD_OBSERVE_PROCESS_METRICS_H_
