// HandlerTable: an immutable map topic -> handler, looked up case-insensitively (ASCII), as in the
// reference resolver, plus the set of *parked* topics (no handler now, one expected back: hot
// reload). Built once, published through RoutingState, never modified: a worker holds the
// shared_ptr of the table it started a batch with, so a handler it is calling stays alive even when
// a newer table has replaced it.
//
// THREADING: immutable after Build; safe to read from any thread.
#ifndef OUTBOXD_DISPATCH_HANDLER_TABLE_H_
#define OUTBOXD_DISPATCH_HANDLER_TABLE_H_

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "dispatch/message_handler.h"

namespace outboxd {

class HandlerTable {
 public:
  using Route = std::pair<std::string, std::shared_ptr<const MessageHandler>>;  // topic, handler

  // Fails with InvalidArgument naming both handlers when two routes claim the same topic (topics
  // differing only by case are the same topic) or a topic is empty.
  static Status Build(std::vector<Route> routes, std::shared_ptr<const HandlerTable>* out);
  // As above; `parked` lists topics that have no handler right now but are expected to get one
  // back (their handler plugin was removed or is being replaced): their messages are released to
  // ready, without counting an attempt, instead of failing. A parked topic that also has a route is
  // not parked.
  static Status Build(std::vector<Route> routes, const std::vector<std::string>& parked,
                      std::shared_ptr<const HandlerTable>* out);
  // As above; with `park_unknown` (dispatch.unknown_topic "park") EVERY topic without a route is
  // parked, listed in `parked` or not.
  static Status Build(std::vector<Route> routes, const std::vector<std::string>& parked,
                      bool park_unknown, std::shared_ptr<const HandlerTable>* out);

  // nullptr when no handler serves the topic.
  const MessageHandler* Find(std::string_view topic) const;
  std::shared_ptr<const MessageHandler> FindShared(std::string_view topic) const;

  std::vector<std::string> Topics() const;  // as configured, sorted

  // True when `topic` has no route and is parked (see Build).
  bool IsParked(std::string_view topic) const;
  std::vector<std::string> ParkedTopics() const;  // as given in `parked`, sorted
  bool parks_unknown() const { return park_unknown_; }
  std::size_t size() const { return routes_.size(); }

 private:
  struct Entry {
    std::string topic;  // original spelling
    std::shared_ptr<const MessageHandler> handler;
  };
  std::unordered_map<std::string, Entry> routes_;  // key: lower-cased topic
  std::unordered_map<std::string, std::string> parked_;  // lower-cased topic -> spelling
  bool park_unknown_ = false;
};

// Lower-cases ASCII letters; topic keys.
std::string FoldTopic(std::string_view topic);

}  // namespace outboxd

#endif  // OUTBOXD_DISPATCH_HANDLER_TABLE_H_
