// abi_bench: what one handler call costs through outboxd's C ABI, against a direct C++ call.
//
//   BM_DirectCall          a noinline free function taking the host's OutboxMessage (the floor)
//   BM_DirectVirtualCall   a virtual Handle() through a base pointer, as a C++ plugin class is called
//   BM_RawVtable_Noop      bench_noop.so's handle() through the vtable the real loader checked,
//                          with a prebuilt obx_message_view (the bare ABI boundary)
//   BM_HostHandle_Noop     the host's real path, HandlerInstance::Handle(): builds the view and the
//                          call context, calls bench_noop.so, maps the outcome   -> abi_call_ns
//   BM_HostHandle_LogWarn  the same into the built-in handler_log.so with the host log at warn (the
//                          configuration bench/run uses for outboxd burn-downs: one log_enabled
//                          callback back into the host per message)
// Plugins are loaded with the host's own LoadPlugin (staged copy, descriptor checks), so the
// benchmark exercises exactly the code outboxd runs.
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "obx/plugin.h"
#include "plugin/handler_instance.h"
#include "plugin/plugin_loader.h"
#include "store/outbox_message.h"

namespace {

using outboxd::HandlerInstance;
using outboxd::HandlerOutcome;
using outboxd::LoadedPlugin;
using outboxd::OutboxMessage;

OutboxMessage SampleMessage() {
  OutboxMessage m;
  m.id = 42;
  m.message_id = "0b6f3c1e-7a51-4c3e-9d2a-5b8e1f0c9a77";
  m.topic = "email.send";
  m.payload = R"({"to":"user42@example.com","subject":"Welcome"})";
  m.correlation_id = "corr-42";
  m.created_at_ms = 1764345600000;
  m.attempts = 0;
  return m;
}

const std::string kTenant = "tenant-0001";

// --- direct C++ calls (the baseline) -----------------------------------------------------------
struct DirectResult {
  int kind = 0;
  long long retry_after_ms = 0;
};

__attribute__((noinline)) DirectResult DirectHandle(const OutboxMessage& m, const std::string& t) {
  benchmark::DoNotOptimize(m.id);
  benchmark::DoNotOptimize(t.size());
  return DirectResult{};
}

class CppHandler {
 public:
  virtual ~CppHandler() = default;
  virtual DirectResult Handle(const OutboxMessage& m, const std::string& tenant) = 0;
};
class NoopCppHandler : public CppHandler {
 public:
  // noinline: otherwise the compiler devirtualises and inlines the call, which a plugin never gets.
  __attribute__((noinline)) DirectResult Handle(const OutboxMessage& m, const std::string& tenant) override {
    benchmark::DoNotOptimize(m.id);
    benchmark::DoNotOptimize(tenant.size());
    return DirectResult{};
  }
};
__attribute__((noinline)) CppHandler* MakeHandler() {
  static NoopCppHandler h;
  return &h;
}

void BM_DirectCall(benchmark::State& state) {
  const OutboxMessage m = SampleMessage();
  for (auto _ : state) {
    DirectResult r = DirectHandle(m, kTenant);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_DirectCall);

void BM_DirectVirtualCall(benchmark::State& state) {
  const OutboxMessage m = SampleMessage();
  CppHandler* h = MakeHandler();
  benchmark::DoNotOptimize(h);
  for (auto _ : state) {
    DirectResult r = h->Handle(m, kTenant);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_DirectVirtualCall);

// --- through the C ABI -------------------------------------------------------------------------
std::filesystem::path StagingDir() {
  static const std::filesystem::path dir = [] {
    char tmpl[] = "/tmp/obx-abi-bench-XXXXXX";
    const char* made = mkdtemp(tmpl);  // 0700, ours
    return std::filesystem::path(made != nullptr ? made : "/tmp");
  }();
  return dir;
}

std::shared_ptr<LoadedPlugin> Load(const char* env, const char* fallback) {
  const char* from_env = getenv(env);
  const std::filesystem::path file = from_env != nullptr && *from_env ? from_env : fallback;
  std::shared_ptr<LoadedPlugin> plugin;
  outboxd::PluginLoadOptions options;
  options.staging_dir = StagingDir();
  outboxd::Status s = outboxd::LoadPlugin(file, options, &plugin);
  if (!s.ok()) {
    std::fprintf(stderr, "abi_bench: cannot load %s: %s\n", file.c_str(), s.ToString().c_str());
    return nullptr;
  }
  return plugin;
}

std::shared_ptr<HandlerInstance> Instance(const char* env, const char* fallback,
                                          const std::string& config) {
  auto plugin = Load(env, fallback);
  if (plugin == nullptr) return nullptr;
  std::shared_ptr<HandlerInstance> handler;
  outboxd::Status s = HandlerInstance::Create(plugin, config, &handler);
  if (!s.ok()) {
    std::fprintf(stderr, "abi_bench: create failed: %s\n", s.ToString().c_str());
    return nullptr;
  }
  return handler;
}

void BM_RawVtable_Noop(benchmark::State& state) {
  auto plugin = Load("OBX_BENCH_NOOP_PLUGIN", OBX_BENCH_NOOP_PLUGIN);
  if (plugin == nullptr) return state.SkipWithError("cannot load bench_noop.so");
  const obx_handler_vtable* vt = plugin->handler_vtable();
  void* instance = nullptr;
  if (vt->create(nullptr, obx_str{"{}", 2}, nullptr, &instance) != OBX_STATUS_OK) {
    return state.SkipWithError("create failed");
  }
  const OutboxMessage m = SampleMessage();
  obx_message_view view{};
  view.struct_size = sizeof(view);
  view.attempt = 1;
  view.row_id = m.id;
  view.message_id = obx_str{m.message_id.data(), m.message_id.size()};
  view.topic = obx_str{m.topic.data(), m.topic.size()};
  view.payload = obx_str{m.payload.data(), m.payload.size()};
  view.tenant = obx_str{kTenant.data(), kTenant.size()};
  for (auto _ : state) {
    obx_handler_result result{};
    result.struct_size = sizeof(result);
    int32_t rc = vt->handle(instance, nullptr, &view, &result);  // bench_noop never reads `call`
    benchmark::DoNotOptimize(rc);
    benchmark::DoNotOptimize(result);
  }
  vt->destroy(instance);
}
BENCHMARK(BM_RawVtable_Noop);

void HostHandle(benchmark::State& state, const std::shared_ptr<HandlerInstance>& handler) {
  if (handler == nullptr) return state.SkipWithError("cannot create the handler instance");
  const OutboxMessage m = SampleMessage();
  for (auto _ : state) {
    HandlerOutcome outcome = handler->Handle(m, kTenant);
    benchmark::DoNotOptimize(outcome);
  }
  if (handler->Handle(m, kTenant).kind != HandlerOutcome::Kind::kOk) {
    state.SkipWithError("handler did not return OK");
  }
}

void BM_HostHandle_Noop(benchmark::State& state) {
  HostHandle(state, Instance("OBX_BENCH_NOOP_PLUGIN", OBX_BENCH_NOOP_PLUGIN, "{}"));
}
BENCHMARK(BM_HostHandle_Noop);

void BM_HostHandle_LogWarn(benchmark::State& state) {
  spdlog::set_level(spdlog::level::warn);  // as outboxd with "log_level": "warn"
  HostHandle(state, Instance("OBX_BENCH_LOG_PLUGIN", OBX_BENCH_LOG_PLUGIN, "{}"));
}
BENCHMARK(BM_HostHandle_LogWarn);

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ec;
  std::filesystem::remove_all(StagingDir(), ec);
  return 0;
}
