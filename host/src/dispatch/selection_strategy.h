// Selection strategies: which tenant store a worker polls next.
//  - round-robin: every call moves to the next store (one batch per store per visit, busy or not);
//    the cursor is shared, so several workers spread over the stores instead of following each other;
//  - drain-first: stays on the last store while its last batch was non-empty, then moves on.
// Stores are identified by identifier, never by index, so removing the store just processed (or any
// other) between two calls never breaks selection (hardening B4): the cursor continues after the
// position the last store had, modulo the current size.
//
// THREADING: thread-safe; one strategy object is shared by all workers. Each worker passes back its
// own last store and count, so drain-first keeps a worker on its store while others move on.
#ifndef OUTBOXD_DISPATCH_SELECTION_STRATEGY_H_
#define OUTBOXD_DISPATCH_SELECTION_STRATEGY_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace outboxd {

class SelectionStrategy {
 public:
  virtual ~SelectionStrategy() = default;
  // Returns the index in `stores` (identifiers, in provider order) of the next store to poll, or
  // nullopt when `stores` is empty. last_store: identifier processed last by this worker ("" none).
  virtual std::optional<std::size_t> SelectNext(const std::vector<std::string>& stores,
                                                const std::string& last_store,
                                                int last_count) = 0;
  // Back to the first store.
  virtual void Reset() = 0;
};

class RoundRobinStrategy : public SelectionStrategy {
 public:
  std::optional<std::size_t> SelectNext(const std::vector<std::string>& stores,
                                        const std::string& last_store, int last_count) override;
  void Reset() override;

 private:
  std::mutex mu_;
  std::size_t cursor_ = 0;  // index of the next store to return (modulo the current size)
};

class DrainFirstStrategy : public SelectionStrategy {
 public:
  std::optional<std::size_t> SelectNext(const std::vector<std::string>& stores,
                                        const std::string& last_store, int last_count) override;
  void Reset() override;

 private:
  std::mutex mu_;
  std::size_t cursor_ = 0;
};

// "round-robin" or "drain-first"; InvalidArgument otherwise.
Status MakeSelectionStrategy(const std::string& name, std::unique_ptr<SelectionStrategy>* out);

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_SELECTION_STRATEGY_H_
