#include "dispatch/selection_strategy.h"

namespace outboxd {

void FairStrategy::Push(const std::string& id) {
  if (members_.insert(id).second) order_.push_back(id);
}

bool FairStrategy::Requeue(const std::string& id, int claimed, bool full) {
  if (drain_first_ ? claimed <= 0 : !full) return false;
  if (!members_.insert(id).second) return true;
  if (drain_first_) {
    order_.push_front(id);
  } else {
    order_.push_back(id);
  }
  return true;
}

std::optional<std::string> FairStrategy::Pop() {
  while (!order_.empty()) {
    std::string id = std::move(order_.front());
    order_.pop_front();
    if (members_.erase(id) > 0) return id;
  }
  return std::nullopt;
}

void FairStrategy::Remove(const std::string& id) {
  members_.erase(id);
  if (members_.empty()) order_.clear();
}

void RoundRobinStrategy::Push(const std::string& id) { ready_.insert(id); }

bool RoundRobinStrategy::Requeue(const std::string& id, int /*claimed*/, bool full) {
  if (!full) return false;
  ready_.insert(id);
  return true;
}

std::optional<std::string> RoundRobinStrategy::Pop() {
  if (ready_.empty()) return std::nullopt;
  auto it = ready_.upper_bound(cursor_);
  if (it == ready_.end()) it = ready_.begin();
  cursor_ = *it;
  ready_.erase(it);
  return cursor_;
}

void RoundRobinStrategy::Remove(const std::string& id) { ready_.erase(id); }

Status MakeSelectionStrategy(const std::string& name, std::unique_ptr<SelectionStrategy>* out) {
  if (name == "fair") {
    *out = std::make_unique<FairStrategy>();
  } else if (name == "round-robin") {
    *out = std::make_unique<RoundRobinStrategy>();
  } else if (name == "drain-first") {
    *out = std::make_unique<FairStrategy>(/*drain_first=*/true);
  } else {
    return Status::InvalidArgument("unknown selection strategy '" + name +
                                   "' (known: fair, round-robin, drain-first)");
  }
  return Status::OK();
}

}  // namespace outboxd
