// outboxd: the long-running relay. `outboxd --config FILE [--drain]`, or
// `outboxd --check-config FILE [--no-discovery]` to check a configuration and exit.
// Exit codes: 0 clean stop (signal or drained), 2 bad configuration or wiring (one line naming the
// key), 1 any other failure, including a plugin that called exit() (plugin/exit_guard.h). SIGINT/SIGTERM stop it gracefully; SIGHUP forces a plugin rescan and a
// discovery refresh.
#include <pthread.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "common/malloc_tuning.h"
#include "config/config.h"
#include "daemon/daemon.h"
#include "obx/cpp/redact.hpp"
#include "observe/json_log_sink.h"
#include "observe/text_log_format.h"
#include "plugin/exit_guard.h"

namespace {

constexpr char kUsage[] =
    "usage: outboxd --config FILE [--drain] [--allow-no-handlers]\n"
    "       outboxd --check-config FILE [--no-discovery] [--allow-no-handlers]\n"
    "  --config FILE        JSON configuration (see docs/configuration.md)\n"
    "  --drain              exit 0 once no tenant outbox has a message due now or in progress\n"
    "  --allow-no-handlers  start even when no handler topic is configured and\n"
    "                       dispatch.unknown_topic is \"fail\" (every message then fails)\n"
    "  --check-config FILE  parse the configuration, load and check every plugin, create the\n"
    "                       handlers and the discovery provider, run one discovery, print a\n"
    "                       summary and exit 0; or print the one-line error and exit 2\n"
    "  --no-discovery       with --check-config: skip the discovery run\n"
    "  --version            print the version\n"
    "Signals: SIGINT/SIGTERM stop after in-flight messages; SIGHUP rescans the plugin folder\n"
    "and refreshes discovery now.\n";

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "outboxd: %s\n",
               outboxd::EscapeControlCharacters(obx::RedactConnectionString(message)).c_str());
  return code;
}

void SetUpLogging(const outboxd::OutboxdConfig& config) {
  std::shared_ptr<spdlog::logger> logger;
  if (config.log_format == "json") {
    logger = std::make_shared<spdlog::logger>("outboxd", std::make_shared<outboxd::JsonLogSink>());
  } else {
    logger = spdlog::stderr_color_mt("outboxd");
    // Control characters in any message (topics, tenant ids, plugin text) are escaped here, once.
    logger->set_formatter(std::make_unique<outboxd::EscapingFormatter>());
  }
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  spdlog::flush_on(spdlog::level::info);
}

int Main(int argc, char** argv) {
  std::string config_path;
  bool drain = false;
  outboxd::CreateOptions create_options;
  bool check_only = false;
  bool no_discovery = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      config_path = arg.substr(9);
    } else if (arg == "--drain") {
      drain = true;
    } else if (arg == "--allow-no-handlers") {
      create_options.allow_no_handlers = true;
    } else if (arg == "--check-config" && i + 1 < argc) {
      config_path = argv[++i];
      check_only = true;
    } else if (arg == "--no-discovery") {
      no_discovery = true;
    } else if (arg == "--version") {
      std::printf("outboxd %s\n", OUTBOXD_VERSION);
      return 0;
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      std::fputs(kUsage, stderr);
      return Fail(2, "unknown argument '" + arg + "'");
    }
  }
  if (config_path.empty()) {
    std::fputs(kUsage, stderr);
    return Fail(2, "--config FILE is required");
  }

  if (no_discovery && !check_only) {
    std::fputs(kUsage, stderr);
    return Fail(2, "--no-discovery goes with --check-config");
  }

  outboxd::OutboxdConfig config;
  outboxd::Status s = outboxd::LoadConfigFile(config_path, &config);
  if (!s.ok()) return Fail(2, "config: " + s.message());

  SetUpLogging(config);

  if (check_only) {
    std::string summary;
    s = outboxd::Daemon::CheckConfig(config, !no_discovery, &summary, create_options);
    if (!s.ok()) return Fail(2, s.message());
    std::printf("outboxd: configuration OK: %s\n%s\n", config_path.c_str(), summary.c_str());
    return 0;
  }

  // Signals are taken by one thread with sigwait; every other thread has them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<outboxd::Daemon> daemon;
  s = outboxd::Daemon::Create(config, &daemon, create_options);
  if (!s.ok()) {
    return Fail(s.code() == outboxd::Status::Code::kInvalidArgument ? 2 : 1, s.message());
  }
  outboxd::Daemon* d = daemon.get();
  std::thread([signals, d] {
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (sig == SIGHUP) {
        d->RequestRefresh();
      } else {
        spdlog::info("Received {}", sig == SIGINT ? "SIGINT" : "SIGTERM");
        d->RequestStop();
      }
    }
  }).detach();

  outboxd::RunOptions options;
  options.drain = drain;
  s = daemon->Run(options);
  if (!s.ok()) return Fail(1, s.message());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread: freed batch memory stays mapped for the next batch (common/malloc_tuning.h).
  outboxd::TuneMallocForWorkers();
  // A plugin calling exit() must not end outboxd with its own status, silently.
  outboxd::InstallExitGuard("outboxd");
  const int code = Main(argc, argv);
  outboxd::AllowExit();
  return code;
}
