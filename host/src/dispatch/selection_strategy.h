// Selection strategies: in which order the READY tenants are visited (dispatch.strategy). The
// TenantSchedule (dispatch/tenant_schedule.h) decides WHEN a tenant is ready (due poll, NOTIFY,
// full claim, short retry, new, recovered); the strategy only orders the ready ones and says what
// a visit that claimed rows does to the tenant's turn. Each visit claims at most one batch.
//  - fair (default): ready tenants are served oldest-ready first (FIFO). A tenant whose claim came
//    back full is ready again at once but queues BEHIND every tenant that became ready before it,
//    so between two batches of a backlogged tenant every other ready tenant gets one batch. This is
//    deficit round-robin with quantum = batch_size (a visit costs the rows it claims, never more
//    than one batch, so each ready tenant gets exactly one visit per round). A message in an idle
//    tenant that becomes ready waits at most for the batches already running (one per worker) plus
//    one batch of each tenant that was ready before it.
//  - round-robin: ready tenants are served in identifier order, cyclically (a cursor moves past the
//    tenant just taken), one batch per visit, busy or not; a full claim makes the tenant ready again
//    for its next turn of the cycle. How long a tenant has been ready does not matter.
//  - drain-first: like fair, but a tenant whose claim returned rows (full or not) goes to the FRONT
//    of the ready queue: the next free worker keeps claiming from it until a claim comes back
//    empty, then moves on. A backlogged tenant can delay the others for its whole backlog.
// Tenants are identified by identifier, never by index: removing any tenant never breaks the order.
//
// THREADING: not thread-safe; the TenantSchedule calls it under its own lock.
#ifndef OUTBOXD_DISPATCH_SELECTION_STRATEGY_H_
#define OUTBOXD_DISPATCH_SELECTION_STRATEGY_H_

#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>

#include "common/status.h"

namespace outboxd {

class SelectionStrategy {
 public:
  virtual ~SelectionStrategy() = default;
  // `id` became ready (due poll, wake, new tenant). Not already ready (the schedule checks).
  virtual void Push(const std::string& id) = 0;
  // `id`'s visit claimed `claimed` rows, `full` when that was a whole batch. Returns whether the
  // tenant is ready again at once; if so the strategy has queued it (Push is not called).
  virtual bool Requeue(const std::string& id, int claimed, bool full) = 0;
  // The next ready tenant to visit (removed from the ready set); nullopt when none is ready.
  virtual std::optional<std::string> Pop() = 0;
  // Drops a ready tenant (removed by discovery); no-op when it is not ready.
  virtual void Remove(const std::string& id) = 0;
  virtual std::size_t ready() const = 0;
};

// fair and drain-first: a FIFO of ready tenants.
class FairStrategy : public SelectionStrategy {
 public:
  explicit FairStrategy(bool drain_first = false) : drain_first_(drain_first) {}
  void Push(const std::string& id) override;
  bool Requeue(const std::string& id, int claimed, bool full) override;
  std::optional<std::string> Pop() override;
  void Remove(const std::string& id) override;
  std::size_t ready() const override { return members_.size(); }

 private:
  const bool drain_first_;
  std::deque<std::string> order_;  // may hold removed ids (skipped by Pop)
  std::unordered_set<std::string> members_;
};

class RoundRobinStrategy : public SelectionStrategy {
 public:
  void Push(const std::string& id) override;
  bool Requeue(const std::string& id, int claimed, bool full) override;
  std::optional<std::string> Pop() override;
  void Remove(const std::string& id) override;
  std::size_t ready() const override { return ready_.size(); }

 private:
  std::set<std::string> ready_;
  std::string cursor_;  // the tenant taken last: the next is the first ready one after it
};

// "fair", "round-robin" or "drain-first"; InvalidArgument otherwise.
Status MakeSelectionStrategy(const std::string& name, std::unique_ptr<SelectionStrategy>* out);

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_SELECTION_STRATEGY_H_
