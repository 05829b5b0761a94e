#include "dispatch/tenant_schedule.h"

#include <algorithm>
#include <random>
#include <unordered_set>
#include <utility>

#include "common/exponential_backoff.h"

namespace outboxd {
namespace {

class SteadyScheduleClock final : public ScheduleClock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
};

double DefaultUniform() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

// The value of `key=` in a keyword/value conninfo ("" when absent).
std::string KeywordValue(const std::string& conninfo, const std::string& key) {
  std::size_t pos = 0;
  while ((pos = conninfo.find(key + "=", pos)) != std::string::npos) {
    if (pos == 0 || conninfo[pos - 1] == ' ') {
      const std::size_t start = pos + key.size() + 1;
      const std::size_t end = conninfo.find(' ', start);
      return conninfo.substr(start, end == std::string::npos ? std::string::npos : end - start);
    }
    pos += key.size();
  }
  return "";
}

}  // namespace

const ScheduleClock* ScheduleClock::Steady() {
  static const SteadyScheduleClock clock;
  return &clock;
}

std::string ServerKeyOf(const std::string& connection_string) {
  for (const char* scheme : {"postgresql://", "postgres://"}) {
    const std::string prefix(scheme);
    if (connection_string.compare(0, prefix.size(), prefix) != 0) continue;
    std::string authority = connection_string.substr(prefix.size());
    authority = authority.substr(0, authority.find_first_of("/?"));
    const std::size_t at = authority.rfind('@');
    if (at != std::string::npos) authority = authority.substr(at + 1);  // no user or password
    return authority.empty() ? "" : "pg:" + authority;
  }
  if (connection_string.find("host=") == std::string::npos) return "";
  const std::string host = KeywordValue(connection_string, "host");
  if (host.empty()) return "";
  const std::string port = KeywordValue(connection_string, "port");
  return "pg:" + host + (port.empty() ? "" : ":" + port);
}

TenantSchedule::TenantSchedule(std::unique_ptr<SelectionStrategy> strategy,
                               ScheduleOptions options, const ScheduleClock* clock)
    : strategy_(std::move(strategy)), options_(std::move(options)), clock_(clock) {}

void TenantSchedule::SetOnReady(std::function<void()> on_ready) { on_ready_ = std::move(on_ready); }

void TenantSchedule::FireReady() {
  if (on_ready_) on_ready_();
}

std::chrono::milliseconds TenantSchedule::Jitter(std::chrono::milliseconds delay) const {
  const double u = options_.uniform ? options_.uniform() : DefaultUniform();
  const double factor = 0.5 + 0.5 * std::clamp(u, 0.0, 1.0);
  return std::chrono::milliseconds(
      static_cast<int64_t>(static_cast<double>(delay.count()) * factor));
}

void TenantSchedule::Unwait(const std::string& id, Slot* t) {
  if (!t->waiting) return;
  timers_.erase(TimerKey{t->due, t->timer_seq, id});
  t->waiting = false;
}

void TenantSchedule::MakeReady(const std::string& id, Slot* t) {
  Unwait(id, t);
  if (t->ready) return;
  t->ready = true;
  t->wake_after = false;
  strategy_->Push(id);
}

bool TenantSchedule::ScheduleAt(const std::string& id, Slot* t, TimePoint due) {
  Unwait(id, t);
  const bool earliest = timers_.empty() || due < std::get<0>(*timers_.begin());
  t->due = due;
  t->timer_seq = ++next_seq_;
  t->waiting = true;
  timers_.insert(TimerKey{due, t->timer_seq, id});
  return earliest;
}

void TenantSchedule::Promote(TimePoint now) {
  while (!timers_.empty() && std::get<0>(*timers_.begin()) <= now) {
    const std::string id = std::get<2>(*timers_.begin());
    timers_.erase(timers_.begin());
    Slot& t = tenants_[id];
    t.waiting = false;
    t.ready = true;
    strategy_->Push(id);
  }
}

void TenantSchedule::Sync(const std::vector<std::shared_ptr<Tenant>>& stores) {
  bool fire = false;
  {
    MutexLock lock(&mu_);
    std::unordered_set<std::string> present;
    for (const auto& store : stores) {
      const std::string& id = store->id();
      present.insert(id);
      auto it = tenants_.find(id);
      if (it != tenants_.end() && it->second.store == store) continue;
      if (it == tenants_.end()) it = tenants_.emplace(id, Slot{}).first;
      Slot& t = it->second;
      if (t.visits > 0) --visiting_;  // the old incarnation's visits no longer count
      hot_.erase(id);
      const bool ready = t.ready;
      Unwait(id, &t);
      t = Slot{};
      t.ready = ready;  // still in the strategy's queue
      t.store = store;
      t.serial = ++next_serial_;
      t.server = ServerKeyOf(store->location().connection_string);
      t.serial_writes = store->store().serializes_writes();
      t.idle_delay = options_.poll_interval;
      MakeReady(id, &t);
      fire = true;
    }
    for (auto it = tenants_.begin(); it != tenants_.end();) {
      if (present.count(it->first) != 0) {
        ++it;
        continue;
      }
      Unwait(it->first, &it->second);
      strategy_->Remove(it->first);
      if (it->second.visits > 0) --visiting_;
      hot_.erase(it->first);
      it = tenants_.erase(it);
    }
  }
  if (fire) FireReady();
}

void TenantSchedule::MarkListened(const std::string& id) {
  MutexLock lock(&mu_);
  auto it = tenants_.find(id);
  if (it != tenants_.end()) it->second.listened = true;
}

void TenantSchedule::Notify(const std::string& id) {
  {
    MutexLock lock(&mu_);
    auto it = tenants_.find(id);
    if (it == tenants_.end()) return;
    Slot& t = it->second;
    t.listened = true;
    if (t.visits > 0) {
      t.wake_after = true;
      return;
    }
    if (t.ready) return;
    MakeReady(id, &t);
  }
  FireReady();
}

void TenantSchedule::WakeAll() {
  {
    MutexLock lock(&mu_);
    for (auto& [id, t] : tenants_) {
      if (t.visits > 0) {
        t.wake_after = true;
      } else {
        MakeReady(id, &t);
      }
    }
  }
  FireReady();
}

std::optional<TenantSchedule::Visit> TenantSchedule::Take() {
  const TimePoint now = clock_->Now();
  MutexLock lock(&mu_);
  Promote(now);
  std::string id;
  if (std::optional<std::string> next = strategy_->Pop()) {
    id = std::move(*next);
    tenants_[id].ready = false;
  } else if (!hot_.empty()) {
    // No tenant is ready: this free worker joins the least-visited backlogged tenant.
    id = *std::min_element(hot_.begin(), hot_.end(), [this](const auto& a, const auto& b)
                               REQUIRES(mu_) { return tenants_[a].visits < tenants_[b].visits; });
  } else {
    return std::nullopt;
  }
  Slot& t = tenants_[id];
  if (t.visits++ == 0) ++visiting_;
  if (Joinable(t)) hot_.insert(id);
  return Visit{t.store, t.serial};
}

std::optional<TenantSchedule::TimePoint> TenantSchedule::NextDue() const {
  MutexLock lock(&mu_);
  if (strategy_->ready() > 0 || !hot_.empty()) return clock_->Now();
  if (timers_.empty()) return std::nullopt;
  return std::get<0>(*timers_.begin());
}

void TenantSchedule::Done(const Visit& visit, const Result& result) {
  bool fire = false;
  {
    MutexLock lock(&mu_);
    const std::string& id = visit.store->id();
    auto it = tenants_.find(id);
    if (it == tenants_.end() || it->second.serial != visit.serial) return;  // removed/recreated
    Slot& t = it->second;
    const TimePoint now = clock_->Now();
    if (--t.visits == 0) {
      --visiting_;
      hot_.erase(id);
    }
    if (result.failed) {
      ++t.failures;
      t.hot = false;
      hot_.erase(id);
      t.listened = false;  // the listener is probably gone with the server; a NOTIFY says again
      t.wake_after = false;
      if (t.visits == 0 && !t.ready) {
        fire |= ScheduleAt(id, &t, now + options_.failure_backoff(t.failures));
      }
    } else {
      if (t.failures > 0 && !t.server.empty()) {
        // The server is back: its backed-off tenants are retried at once.
        for (auto& [peer_id, peer] : tenants_) {
          if (peer.failures == 0 || peer.server != t.server || &peer == &t) continue;
          if (peer.visits == 0 && !peer.ready) {
            MakeReady(peer_id, &peer);
            fire = true;
          }
        }
      }
      t.failures = 0;
      const bool full = result.claimed >= options_.batch_size;
      t.hot = full;
      t.store_bound = result.store_bound;
      if (!Joinable(t)) {
        hot_.erase(id);
      } else if (t.visits > 0) {
        hot_.insert(id);  // other workers still on it: free workers may join, it is not requeued
      }
      if (t.ready || t.visits > 0) {
        // Already queued (woken meanwhile), or the last of its visits decides.
      } else if (strategy_->Requeue(id, result.claimed, full)) {
        Unwait(id, &t);
        t.ready = true;
        t.wake_after = false;
        t.idle_delay = options_.poll_interval;
        fire = true;
      } else {
        if (t.wake_after) {
          MakeReady(id, &t);
          fire = true;
        } else {
          const auto ceiling = t.listened ? options_.notify_safety_interval
                                          : options_.max_poll_interval;
          std::chrono::milliseconds delay;
          if (t.listened) {
            delay = options_.notify_safety_interval;
          } else if (result.claimed > 0) {
            delay = options_.poll_interval;
          } else {
            delay = t.idle_delay;
          }
          t.idle_delay = result.claimed > 0
                             ? options_.poll_interval
                             : NextExponentialDelay(t.idle_delay, options_.poll_interval, ceiling);
          TimePoint due = now + Jitter(delay);
          if (result.retry_in.count() >= 0) due = std::min(due, now + result.retry_in);
          fire |= ScheduleAt(id, &t, due);
        }
      }
    }
  }
  if (fire) FireReady();
}

int TenantSchedule::busy() const {
  MutexLock lock(&mu_);
  return visiting_ + static_cast<int>(strategy_->ready());
}

std::optional<TenantSchedule::TimePoint> TenantSchedule::DueAt(const std::string& id) const {
  MutexLock lock(&mu_);
  auto it = tenants_.find(id);
  if (it == tenants_.end() || !it->second.waiting) return std::nullopt;
  return it->second.due;
}

int TenantSchedule::failures(const std::string& id) const {
  MutexLock lock(&mu_);
  auto it = tenants_.find(id);
  return it == tenants_.end() ? 0 : it->second.failures;
}

bool TenantSchedule::listened(const std::string& id) const {
  MutexLock lock(&mu_);
  auto it = tenants_.find(id);
  return it != tenants_.end() && it->second.listened;
}

std::size_t TenantSchedule::size() const {
  MutexLock lock(&mu_);
  return tenants_.size();
}

}  // namespace outboxd
