// RoutingState: the published HandlerTable. Readers take a snapshot (shared_ptr) per batch; a new
// table is published atomically (hot reload swaps it). A handler stays alive while any batch that
// started with its table still runs.
// THREADING: thread-safe; the lock guards a pointer swap only.
#ifndef OUTBOXD_DISPATCH_ROUTING_STATE_H_
#define OUTBOXD_DISPATCH_ROUTING_STATE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

#include "dispatch/handler_table.h"

namespace outboxd {

class RoutingState {
 public:
  RoutingState() : table_(std::make_shared<const HandlerTable>()) {}
  std::shared_ptr<const HandlerTable> Current() const {
    std::lock_guard<std::mutex> lock(mu_);
    return table_;
  }
  void Publish(std::shared_ptr<const HandlerTable> table) {
    std::lock_guard<std::mutex> lock(mu_);
    table_.swap(table);  // the old table dies with the parameter, after the lock is released
    version_.fetch_add(1, std::memory_order_release);
  }
  // Increases with every Publish: "has the routing changed since I last looked?"
  uint64_t version() const { return version_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const HandlerTable> table_;
  std::atomic<uint64_t> version_{0};
};

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_ROUTING_STATE_H_
