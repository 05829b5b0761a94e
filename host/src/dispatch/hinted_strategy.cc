#include "dispatch/hinted_strategy.h"

#include <algorithm>
#include <utility>

namespace outboxd {

HintedStrategy::HintedStrategy(std::unique_ptr<SelectionStrategy> inner)
    : inner_(std::move(inner)) {}

void HintedStrategy::Hint(const std::string& store) {
  MutexLock lock(&mu_);
  if (pending_.insert(store).second) order_.push_back(store);
}

size_t HintedStrategy::pending_hints() const {
  MutexLock lock(&mu_);
  return order_.size();
}

std::optional<std::size_t> HintedStrategy::SelectNext(const std::vector<std::string>& stores,
                                                      const std::string& last_store,
                                                      int last_count) {
  {
    MutexLock lock(&mu_);
    while (!order_.empty()) {
      std::string hinted = std::move(order_.front());
      order_.pop_front();
      pending_.erase(hinted);
      auto it = std::find(stores.begin(), stores.end(), hinted);
      if (it != stores.end()) return static_cast<std::size_t>(it - stores.begin());
    }
  }
  return inner_->SelectNext(stores, last_store, last_count);
}

void HintedStrategy::Reset() {
  {
    MutexLock lock(&mu_);
    order_.clear();
    pending_.clear();
  }
  inner_->Reset();
}

}  // namespace outboxd
