#include "dispatch/selection_strategy.h"

#include <algorithm>

namespace outboxd {
namespace {

std::optional<std::size_t> IndexOf(const std::vector<std::string>& stores, const std::string& id) {
  if (id.empty()) return std::nullopt;
  auto it = std::find(stores.begin(), stores.end(), id);
  if (it == stores.end()) return std::nullopt;
  return static_cast<std::size_t>(it - stores.begin());
}

}  // namespace

std::optional<std::size_t> RoundRobinStrategy::SelectNext(const std::vector<std::string>& stores,
                                                          const std::string& /*last_store*/,
                                                          int /*last_count*/) {
  if (stores.empty()) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  const std::size_t pick = cursor_ % stores.size();
  cursor_ = pick + 1;
  return pick;
}

void RoundRobinStrategy::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  cursor_ = 0;
}

std::optional<std::size_t> DrainFirstStrategy::SelectNext(const std::vector<std::string>& stores,
                                                          const std::string& last_store,
                                                          int last_count) {
  if (stores.empty()) return std::nullopt;
  const std::optional<std::size_t> last = IndexOf(stores, last_store);
  if (last && last_count > 0) return last;  // keep draining this worker's store
  std::lock_guard<std::mutex> lock(mu_);
  if (last) cursor_ = *last + 1;  // the store we just emptied: move past it
  const std::size_t pick = cursor_ % stores.size();
  cursor_ = pick;
  return pick;
}

void DrainFirstStrategy::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  cursor_ = 0;
}

Status MakeSelectionStrategy(const std::string& name, std::unique_ptr<SelectionStrategy>* out) {
  if (name == "round-robin") {
    *out = std::make_unique<RoundRobinStrategy>();
  } else if (name == "drain-first") {
    *out = std::make_unique<DrainFirstStrategy>();
  } else {
    return Status::InvalidArgument("unknown selection strategy '" + name +
                                   "' (known: round-robin, drain-first)");
  }
  return Status::OK();
}

}  // namespace outboxd
