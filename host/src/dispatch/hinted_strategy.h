// HintedStrategy: a SelectionStrategy decorator that serves "this store has new work" hints first
// (from PostgreSQL NOTIFY wake-ups), then defers to the configured strategy. With a thousand idle
// tenants a woken worker goes straight to the tenant that was written to instead of sweeping all of
// them. A hint for a store that is not among the candidates (backed off, removed) is dropped; hints
// for the same store coalesce until it is visited.
//
// OWNERSHIP: owns the wrapped strategy. THREADING: thread-safe; Hint may be called from any thread.
#ifndef OUTBOXD_DISPATCH_HINTED_STRATEGY_H_
#define OUTBOXD_DISPATCH_HINTED_STRATEGY_H_

#include <deque>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/mutex.h"
#include "dispatch/selection_strategy.h"

namespace outboxd {

class HintedStrategy final : public SelectionStrategy {
 public:
  explicit HintedStrategy(std::unique_ptr<SelectionStrategy> inner);

  // Asks that `store` be visited next (by the next worker that selects a store).
  void Hint(const std::string& store);
  size_t pending_hints() const;

  std::optional<std::size_t> SelectNext(const std::vector<std::string>& stores,
                                        const std::string& last_store, int last_count) override;
  void Reset() override;

 private:
  const std::unique_ptr<SelectionStrategy> inner_;
  mutable Mutex mu_;
  std::deque<std::string> order_ GUARDED_BY(mu_);  // oldest hint first
  std::unordered_set<std::string> pending_ GUARDED_BY(mu_);  // the same, for coalescing
};

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_HINTED_STRATEGY_H_
