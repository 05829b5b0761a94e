// Pieces shared by the observation end-to-end tests (header-only, like outbox_env.h): the
// scenario handler script (fixtures/observe_handler.sh: outcome by topic, one line per call), an
// outboxd started with http.listen on a free port (port 0, read back from its log), scrapes, and
// promtool.
#ifndef OUTBOXD_TESTS_INTEGRATION_SUPPORT_OBSERVE_ENV_H_
#define OUTBOXD_TESTS_INTEGRATION_SUPPORT_OBSERVE_ENV_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "integration/support/outbox_env.h"
#include "integration/support/process.h"
#include "support/http_get.h"
#include "support/temp_dir.h"

namespace outboxd::testing {

// topics: ok -> done, poison -> permanent failure (65), retry -> retry (1), block -> waits while
// the flag file exists, then done. Each call appends "<topic> <tenant>" to the calls file.
inline std::filesystem::path ObserveHandlerScript() { return FixturePath("observe_handler.sh"); }

inline nlohmann::json ObserveExecHandler(const std::filesystem::path& calls,
                                         const std::filesystem::path& flag) {
  return {{"plugin", "exec"},
          {"topics", {"ok", "poison", "retry", "block"}},
          {"config",
           {{"command", {"/bin/sh", ObserveHandlerScript().string(), calls.string(), flag.string()}},
            {"timeout", "120s"}}}};
}

// Calls of `topic` (for `tenant` when not empty) in the calls file.
inline int HandlerCalls(const std::filesystem::path& calls, const std::string& topic,
                        const std::string& tenant = "") {
  int n = 0;
  for (const std::string& line : SplitLines(ReadText(calls))) {
    if (line == topic + " " + tenant || (tenant.empty() && line.rfind(topic + " ", 0) == 0)) ++n;
  }
  return n;
}

// Waits for outboxd's "HTTP endpoint listening on" line; its port, or 0.
inline int WaitForHttpPort(Process* outboxd) {
  if (!outboxd->WaitForLog("HTTP endpoint listening on", milliseconds(20000))) return 0;
  return ListeningPort(outboxd->Stderr());
}

// `promtool check metrics` on `scrape` (written to <dir>/scrape-N.txt). Its exit code and output.
inline RunResult PromtoolCheckMetrics(const TempDir& dir, const std::string& scrape) {
  static int counter = 0;
  const std::filesystem::path file = dir.WriteFile("scrape-" + std::to_string(counter++) + ".txt", scrape);
  return RunProgram("/bin/sh", {"-c", "promtool check metrics < '" + file.string() + "'"},
                    dir.path());
}

// A test fixture's scrape helper: the body of GET /metrics, or "" when it did not answer 200.
inline std::string Scrape(int port) {
  HttpResult r = HttpGet(port, "/metrics");
  return r.status == 200 ? r.body : "";
}

// Eventually MetricValue(scrape, series) == value.
inline bool WaitForMetric(int port, const std::string& series, double value,
                          milliseconds timeout = milliseconds(30000)) {
  return Eventually(
      [&] {
        std::optional<double> v = MetricValue(Scrape(port), series);
        return v && *v == value;
      },
      timeout, milliseconds(50));
}

}  // namespace outboxd::testing

#endif  // OUTBOXD_TESTS_INTEGRATION_SUPPORT_OBSERVE_ENV_H_
