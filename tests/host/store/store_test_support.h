// Engine-neutral test support for the store suites: a stored row as plain SQL reads it, waiting for
// a condition, enqueueing in bulk and building completions. The per-engine tenant (a SQLite file or
// a PostgreSQL schema or database) and its raw SQL helpers are in store_test_backend.h.
//
// THREADING: free functions without shared state.
#ifndef OUTBOXD_TESTS_HOST_STORE_STORE_TEST_SUPPORT_H_
#define OUTBOXD_TESTS_HOST_STORE_STORE_TEST_SUPPORT_H_

#include <Poco/Nullable.h>
#include <Poco/Types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "store/outbox_store.h"
#include "support/temp_dir.h"

namespace outboxd::testing {

// One row as stored, read with plain SQL.
struct StoredRow {
  int64_t id = 0;
  std::string message_id;
  std::string topic;
  std::string payload;
  std::optional<std::string> correlation_id;
  int64_t created_at = 0;
  std::optional<int64_t> due_at;
  int status = -1;
  int attempts = -1;
  std::optional<int64_t> next_attempt_at;
  std::optional<int64_t> locked_until;
  std::optional<std::string> owner_token;
  std::optional<int64_t> processed_at;
  std::optional<std::string> processed_by;
  std::optional<std::string> last_error;
};

inline std::optional<std::string> Opt(const Poco::Nullable<std::string>& v) {
  return v.isNull() ? std::nullopt : std::optional<std::string>(v.value());
}
inline std::optional<int64_t> Opt(const Poco::Nullable<Poco::Int64>& v) {
  return v.isNull() ? std::nullopt : std::optional<int64_t>(v.value());
}

// Polls `condition` every 5 ms until it holds or `timeout` passes; returns its last value.
inline bool WaitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Releases all `count` threads together once each has arrived (C++17 has no std::barrier).
class StartGate {
 public:
  explicit StartGate(int count) : waiting_(count) {}
  void ArriveAndWait() {
    std::unique_lock<std::mutex> lock(mu_);
    if (--waiting_ == 0) {
      cv_.notify_all();
      return;
    }
    cv_.wait(lock, [this] { return waiting_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int waiting_;  // guarded by mu_
};

// Enqueues `count` messages "topic-<i>" / "payload-<i>"; returns nothing (ids via claims).
inline void EnqueueN(OutboxStore* store, int count, const std::string& topic = "Test.Topic") {
  for (int i = 0; i < count; ++i) {
    NewMessage message;
    message.topic = topic;
    message.payload = "payload-" + std::to_string(i);
    std::string message_id;
    Status status = store->Enqueue(message, &message_id);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
}

inline std::vector<int64_t> Ids(const std::vector<OutboxMessage>& messages) {
  std::vector<int64_t> ids;
  for (const OutboxMessage& m : messages) ids.push_back(m.id);
  return ids;
}

inline Completion Dispatched(int64_t id) {
  Completion c;
  c.id = id;
  c.kind = Completion::Kind::kDispatched;
  return c;
}
inline Completion Rescheduled(int64_t id, std::chrono::milliseconds delay, std::string error) {
  Completion c;
  c.id = id;
  c.kind = Completion::Kind::kReschedule;
  c.delay = delay;
  c.error = std::move(error);
  return c;
}
inline Completion Failed(int64_t id, std::string error) {
  Completion c;
  c.id = id;
  c.kind = Completion::Kind::kFail;
  c.error = std::move(error);
  return c;
}
inline Completion Released(int64_t id) {
  Completion c;
  c.id = id;
  c.kind = Completion::Kind::kRelease;
  return c;
}

}  // namespace outboxd::testing

#endif  // OUTBOXD_TESTS_HOST_STORE_STORE_TEST_SUPPORT_H_
