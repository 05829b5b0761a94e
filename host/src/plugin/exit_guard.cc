#include "plugin/exit_guard.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace outboxd {
namespace {

std::atomic<bool> g_installed{false};
std::atomic<bool> g_exit_allowed{false};
const char* g_program = "outboxd";
thread_local const std::string* t_plugin = nullptr;

void WriteAll(const char* text, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(STDERR_FILENO, text, size);
    if (n <= 0) return;
    text += n;
    size -= static_cast<size_t>(n);
  }
}
void WriteText(const char* text) { WriteAll(text, std::strlen(text)); }

void OnExit() {
  if (g_exit_allowed.load()) return;
  WriteText(g_program);
  if (t_plugin != nullptr) {
    WriteText(": plugin '");
    // The name passed the descriptor checks (printable, short); cap it anyway.
    WriteAll(t_plugin->data(), t_plugin->size() < 128 ? t_plugin->size() : 128);
    WriteText("' called exit() during a call; ");
  } else {
    WriteText(": exit() was called outside the program's own shutdown (by a plugin or a library "
              "it uses); ");
  }
  WriteText("stopping with exit status 1. Messages in progress are claimed again when their "
            "lease expires.\n");
  ::_exit(1);
}

}  // namespace

void InstallExitGuard(const char* program) {
  if (g_installed.exchange(true)) return;
  g_program = program;
  std::atexit(OnExit);
  std::at_quick_exit(OnExit);
}

void AllowExit() { g_exit_allowed.store(true); }

PluginCallScope::PluginCallScope(const std::string* plugin_name) : previous_(t_plugin) {
  t_plugin = plugin_name;
}

PluginCallScope::~PluginCallScope() { t_plugin = previous_; }

}  // namespace outboxd
