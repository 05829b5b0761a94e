// outboxctl: the operator's command line for tenant outboxes (see OutboxctlUsage() or --help).
// Everything but argv and the final flush lives in host/src/ctl/ (outboxctl_run.h documents the
// output contract and exit status).
#include <cstdio>
#include <string>
#include <vector>

#include "ctl/outboxctl_run.h"
#include "plugin/exit_guard.h"

int main(int argc, char** argv) {
  // --config loads discovery plugins: one calling exit() must not choose outboxctl's status.
  outboxd::InstallExitGuard("outboxctl");
  std::vector<std::string> args(argv + 1, argv + argc);
  int code = outboxd::RunOutboxctl(args);
  outboxd::AllowExit();
  if (std::fflush(stdout) != 0 && code == 0) return 1;
  return code;
}
