// LogCapture: routes spdlog's default logger into memory for the lifetime of the object, so a test
// can assert on the exact operator-facing lines. Restores the previous default logger afterwards.
#ifndef OUTBOXD_TESTS_SUPPORT_LOG_CAPTURE_H_
#define OUTBOXD_TESTS_SUPPORT_LOG_CAPTURE_H_

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

namespace outboxd::testing {

class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    sink_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(4096);
    sink_->set_pattern("%l %v");
    auto logger = std::make_shared<spdlog::logger>("capture", sink_);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }

  std::vector<std::string> Lines() const { return sink_->last_formatted(); }
  // True when some line contains `needle`.
  bool Contains(const std::string& needle) const {
    for (const std::string& line : Lines()) {
      if (line.find(needle) != std::string::npos) return true;
    }
    return false;
  }
  int Count(const std::string& needle) const {
    int n = 0;
    for (const std::string& line : Lines()) n += line.find(needle) != std::string::npos ? 1 : 0;
    return n;
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
};

}  // namespace outboxd::testing

#endif  // OUTBOXD_TESTS_SUPPORT_LOG_CAPTURE_H_
