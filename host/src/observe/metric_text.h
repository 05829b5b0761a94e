// Metric families built at scrape time (values read from atomics, the tenant set, /proc) with
// prometheus-cpp's plain structs, and the text exposition (format 0.0.4) of a list of families
// through prometheus-cpp's TextSerializer. Families from the hot-path registry
// (DispatchMetrics::Collect) and these are serialized together, so one scrape is one document.
//
// THREADING: pure functions; safe from any thread.
#ifndef OUTBOXD_OBSERVE_METRIC_TEXT_H_
#define OUTBOXD_OBSERVE_METRIC_TEXT_H_

#include <string>
#include <utility>
#include <vector>

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

namespace outboxd {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// An empty family (add samples with AddSample).
prometheus::MetricFamily MakeFamily(std::string name, std::string help,
                                    prometheus::MetricType type);

// Appends one counter or gauge sample (by the family's type) with `labels`.
void AddSample(prometheus::MetricFamily* family, const MetricLabels& labels, double value);

// A family with one unlabelled sample.
prometheus::MetricFamily ScalarFamily(std::string name, std::string help,
                                      prometheus::MetricType type, double value);

// The text exposition of `families`, in order.
std::string SerializeText(const std::vector<prometheus::MetricFamily>& families);

// The Content-Type of that text.
inline constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace outboxd

#endif  // OUTBOXD_OBSERVE_METRIC_TEXT_H_
