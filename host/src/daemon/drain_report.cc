#include "daemon/drain_report.h"

#include <algorithm>
#include <ctime>

#include "common/duration.h"

namespace outboxd {
namespace {

std::string Utc(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Plural(int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::string DescribeDrainWait(const std::vector<DrainTenant>& tenants, int64_t in_flight_here,
                              std::chrono::system_clock::time_point now, size_t max_listed) {
  std::vector<const DrainTenant*> leased, due, unchecked;
  int64_t in_progress = 0, ready = 0;
  for (const DrainTenant& t : tenants) {
    if (!t.checked) {
      unchecked.push_back(&t);
    } else if (t.backlog.in_progress > 0) {
      leased.push_back(&t);
      in_progress += t.backlog.in_progress;
      ready += t.backlog.ready_due;
    } else if (t.backlog.ready_due > 0) {
      due.push_back(&t);
      ready += t.backlog.ready_due;
    }
  }
  if (leased.empty() && due.empty() && unchecked.empty()) return "";
  // The longest-held first: those are what an operator looks for.
  std::stable_sort(leased.begin(), leased.end(), [](const DrainTenant* a, const DrainTenant* b) {
    return a->backlog.latest_lease_left_ms > b->backlog.latest_lease_left_ms;
  });
  std::string out = "Drain: waiting for ";
  if (!leased.empty()) {
    out += Plural(in_progress, "message", "messages") + " in progress under a lease in " +
           Plural(static_cast<int64_t>(leased.size()), "outbox database", "outbox databases") +
           " (" + std::to_string(in_flight_here) + " of them handled by this process now)";
  }
  if (ready > 0) {
    out += (leased.empty() ? "" : " and ") + Plural(ready, "message", "messages") + " due";
  }
  if (leased.empty() && ready == 0) out += "outbox databases that cannot be checked";
  size_t listed = 0;
  std::string list;
  for (const DrainTenant* t : leased) {
    if (listed++ == max_listed) break;
    const int64_t left = t->backlog.latest_lease_left_ms;
    list += (list.empty() ? "" : "; ") + std::string("'") + t->id + "' " +
            std::to_string(t->backlog.in_progress) + " in progress, ";
    if (left > 0) {
      const std::chrono::milliseconds ahead((left + 999) / 1000 * 1000);  // whole seconds
      list += "leased until " + Utc(now + ahead) + " (in " + FormatDuration(ahead) + ")";
    } else {
      list += "leases ran out (claimable again)";
    }
  }
  for (const DrainTenant* t : due) {
    if (listed++ == max_listed) break;
    list += (list.empty() ? "" : "; ") + std::string("'") + t->id + "' " +
            std::to_string(t->backlog.ready_due) + " due";
  }
  for (const DrainTenant* t : unchecked) {
    if (listed++ == max_listed) break;
    list += (list.empty() ? "" : "; ") + std::string("'") + t->id + "' cannot be checked: " +
            t->error;
  }
  const size_t total = leased.size() + due.size() + unchecked.size();
  if (total > max_listed) list += "; and " + std::to_string(total - max_listed) + " more";
  out += ": " + list;
  if (!leased.empty()) {
    out += ". A lease may be held by another process that still completes its messages, so "
           "--drain waits until they are done or their leases run out (SIGTERM stops now)";
  }
  return out;
}

}  // namespace outboxd
