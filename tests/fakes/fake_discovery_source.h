// FakeDiscoverySource: returns whatever list the test sets, or a set error; counts calls.
// THREADING: thread-safe.
#ifndef OUTBOXD_TESTS_FAKES_FAKE_DISCOVERY_SOURCE_H_
#define OUTBOXD_TESTS_FAKES_FAKE_DISCOVERY_SOURCE_H_

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "discovery/discovery_source.h"

namespace outboxd::testing {

class FakeDiscoverySource : public DiscoverySource {
 public:
  void Set(std::vector<TenantLocation> list) {
    std::lock_guard<std::mutex> lock(mu_);
    list_ = std::move(list);
    error_ = Status::OK();
  }
  void SetError(Status error) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = std::move(error);
  }
  // Runs inside Discover (e.g. to block until a test releases it).
  void SetHook(std::function<void()> hook) { hook_ = std::move(hook); }
  int calls() const { return calls_.load(); }

  Status Discover(std::vector<TenantLocation>* out) override {
    ++calls_;
    if (hook_) hook_();
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok()) return error_;
    *out = list_;
    return Status::OK();
  }
  std::string Describe() const override { return "fake-discovery"; }

  static TenantLocation Location(const std::string& id, const std::string& conn = "") {
    TenantLocation l;
    l.identifier = id;
    l.connection_string = conn.empty() ? "fake:" + id : conn;
    return l;
  }

 private:
  mutable std::mutex mu_;
  std::vector<TenantLocation> list_;
  Status error_;
  std::function<void()> hook_;
  std::atomic<int> calls_{0};
};

}  // namespace outboxd::testing

#endif  // OUTBOXD_TESTS_FAKES_FAKE_DISCOVERY_SOURCE_H_
