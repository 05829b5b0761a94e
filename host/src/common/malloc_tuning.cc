#include "common/malloc_tuning.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace outboxd {

bool TuneMallocForWorkers() {
#if defined(__GLIBC__)
  return mallopt(M_TRIM_THRESHOLD, static_cast<int>(kMallocTrimThresholdBytes)) == 1;
#else
  return false;
#endif
}

}  // namespace outboxd
