// TuneMallocForWorkers: a worker thread that frees a batch's memory and allocates it again does not
// take a page fault per page each time (glibc no longer trims its arena after every free).
#include "common/malloc_tuning.h"

#include <sys/resource.h>

#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace outboxd {
namespace {

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)

long ThreadMinorFaults() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_minflt;
}

// Allocates and touches 1 MiB in 4 KiB blocks, frees it all (the top of the thread's arena), `cycles`
// times; returns the page faults of every cycle after the first.
long FaultsOfRepeatedBatches(int cycles) {
  constexpr int kBlocks = 256;
  constexpr std::size_t kBlock = 4096;
  std::vector<void*> blocks(kBlocks);
  long faults = 0;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    const long before = ThreadMinorFaults();
    for (void*& b : blocks) {
      b = std::malloc(kBlock);
      std::memset(b, cycle + 1, kBlock);
    }
    for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) std::free(*it);
    if (cycle > 0) faults += ThreadMinorFaults() - before;
  }
  return faults;
}

TEST(MallocTuningTest, AWorkerReusesFreedBatchMemoryWithoutPageFaults) {
  ASSERT_TRUE(TuneMallocForWorkers());
  long faults = -1;
  std::thread worker([&] { faults = FaultsOfRepeatedBatches(20); });
  worker.join();
  // Trimmed after every free, each of the 19 later cycles would fault in its 256 pages again
  // (about 4,900 faults); kept, the pages fault once, in the first cycle.
  EXPECT_LT(faults, 256) << "freed batch memory was returned to the kernel and faulted in again";
}

#endif

}  // namespace
}  // namespace outboxd
