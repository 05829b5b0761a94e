// TuneMallocForWorkers: keeps glibc's allocator from handing freed memory back to the kernel after
// every batch.
//
// Why: each worker thread allocates from its own glibc arena. By default a free that leaves more
// than 128 KiB (M_TRIM_THRESHOLD) unused at the top of a thread arena returns it with
// madvise(MADV_DONTNEED); the next batch touches those pages again and takes a page fault for each,
// and every madvise in a multi-threaded process is a TLB shoot-down on every core. A burn-down
// frees and reallocates its batch's rows, payloads and statement buffers hundreds of times a
// second, so it paid for both all the time: a profile of a 1-tenant SQLite burn-down showed
// madvise with its TLB flushes (8.5%) and the page faults behind it (8.5%) as the largest costs in
// outboxd after SQLite itself; raising the threshold took the burn-down from 44k to 60-67k msg/s
// on the same build and machine (docs/operations.md, "Memory").
//
// What: M_TRIM_THRESHOLD = kMallocTrimThresholdBytes (64 MiB), so up to that much freed memory per
// arena stays mapped for reuse. Cost: RSS stays near its high-water mark (plus at most that much
// per arena) instead of shrinking between batches; the mmap threshold stays at glibc's 128 KiB, so
// large payloads are still mapped and unmapped on their own.
//
// THREADING: call once, first thing in main, before any thread starts. No effect on other C
// libraries (the call is only compiled with glibc).
#ifndef OUTBOXD_COMMON_MALLOC_TUNING_H_
#define OUTBOXD_COMMON_MALLOC_TUNING_H_

#include <cstddef>

namespace outboxd {

inline constexpr std::size_t kMallocTrimThresholdBytes = std::size_t{64} << 20;

// Returns false when the C library refused the setting (or is not glibc).
bool TuneMallocForWorkers();

}  // namespace outboxd

#endif  // OUTBOXD_COMMON_MALLOC_TUNING_H_
