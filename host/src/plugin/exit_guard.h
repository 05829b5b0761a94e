// The exit guard: a plugin must not end outboxd silently with an exit status of its own choosing.
// A handler or discovery plugin (or a library it uses) that calls exit() or quick_exit() runs the
// hooks installed here; unless main has said it is returning on purpose (AllowExit), the hook
// writes one line to stderr naming the plugin whose call was running on that thread (when the
// call came from a host thread) and ends the process with _exit(1), skipping the remaining atexit
// handlers and static destructors (plugin threads are still running at that point). The message
// being handled stays in progress and is claimed again when its lease expires. _exit() and fatal
// signals cannot be hooked; a service manager sees them as they are.
//
// InstallExitGuard: once, first thing in main. AllowExit: just before main returns (or a deliberate
// exit). PluginCallScope: marks "a plugin call runs on this thread" for the hook's message; every
// obx_call_ctx holds one, so create, handle and discover are all covered.
//
// THREADING: InstallExitGuard/AllowExit from the main thread; PluginCallScope on any thread
// (thread-local). The hook itself uses only async-signal-safe calls (write, _exit).
#ifndef OUTBOXD_PLUGIN_EXIT_GUARD_H_
#define OUTBOXD_PLUGIN_EXIT_GUARD_H_

#include <string>

namespace outboxd {

// Installs the atexit and at_quick_exit hooks (idempotent). `program` names the process in the
// message ("outboxd").
void InstallExitGuard(const char* program);

// From now on exit() is main's own: the hooks do nothing.
void AllowExit();

// While alive, the hook names `plugin_name` for exits on this thread. Nests.
class PluginCallScope {
 public:
  explicit PluginCallScope(const std::string* plugin_name);
  PluginCallScope(const PluginCallScope&) = delete;
  PluginCallScope& operator=(const PluginCallScope&) = delete;
  ~PluginCallScope();

 private:
  const std::string* const previous_;
};

}  // namespace outboxd

#endif  // OUTBOXD_PLUGIN_EXIT_GUARD_H_
