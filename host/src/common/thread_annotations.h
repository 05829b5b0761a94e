// Clang thread-safety annotations (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html), as in
// leveldb's port/thread_annotations.h. Under clang with -Wthread-safety the compiler checks them
// (packaging/check-clang.sh builds the host that way); under gcc they expand to nothing.
//
//   GUARDED_BY(mu)      a member read or written only with `mu` held
//   PT_GUARDED_BY(mu)   the pointee of a pointer member, likewise
//   REQUIRES(mu)        a function the caller must call with `mu` held
//   EXCLUDES(mu)        a function the caller must call without `mu` (it takes it itself)
//   ACQUIRE(mu) / RELEASE(mu)  a function that takes / drops `mu` (lock wrappers)
//   CAPABILITY("mutex") / SCOPED_CAPABILITY  mark the mutex and lock types themselves
//   NO_THREAD_SAFETY_ANALYSIS  opt one function out, with a comment saying why
//
// libstdc++'s std::mutex carries no annotations: guard state with outboxd::Mutex (common/mutex.h).
#ifndef OUTBOXD_COMMON_THREAD_ANNOTATIONS_H_
#define OUTBOXD_COMMON_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define OBX_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define OBX_THREAD_ANNOTATION(x)  // gcc: no thread-safety analysis
#endif

#define CAPABILITY(x) OBX_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY OBX_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) OBX_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) OBX_THREAD_ANNOTATION(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) OBX_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) OBX_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define REQUIRES(...) OBX_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) OBX_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) OBX_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) OBX_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define EXCLUDES(...) OBX_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) OBX_THREAD_ANNOTATION(assert_capability(x))
#define RETURN_CAPABILITY(x) OBX_THREAD_ANNOTATION(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS OBX_THREAD_ANNOTATION(no_thread_safety_analysis)

#endif  // OUTBOXD_COMMON_THREAD_ANNOTATIONS_H_
