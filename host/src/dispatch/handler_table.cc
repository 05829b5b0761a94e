#include "dispatch/handler_table.h"

#include <algorithm>

namespace outboxd {

std::string FoldTopic(std::string_view topic) {
  std::string key(topic);
  for (char& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return key;
}

Status HandlerTable::Build(std::vector<Route> routes, std::shared_ptr<const HandlerTable>* out) {
  return Build(std::move(routes), {}, out);
}

Status HandlerTable::Build(std::vector<Route> routes, const std::vector<std::string>& parked,
                           std::shared_ptr<const HandlerTable>* out) {
  return Build(std::move(routes), parked, /*park_unknown=*/false, out);
}

Status HandlerTable::Build(std::vector<Route> routes, const std::vector<std::string>& parked,
                           bool park_unknown, std::shared_ptr<const HandlerTable>* out) {
  auto table = std::make_shared<HandlerTable>();
  table->park_unknown_ = park_unknown;
  for (auto& [topic, handler] : routes) {
    if (topic.empty()) return Status::InvalidArgument("handler " + handler->Describe() + ": empty topic");
    auto [it, inserted] = table->routes_.emplace(FoldTopic(topic), Entry{topic, handler});
    if (!inserted) {
      return Status::InvalidArgument("topic '" + topic + "' is claimed by both " +
                                     it->second.handler->Describe() + " (as '" + it->second.topic +
                                     "') and " + handler->Describe());
    }
  }
  for (const std::string& topic : parked) {
    std::string key = FoldTopic(topic);
    if (!topic.empty() && table->routes_.count(key) == 0) table->parked_.emplace(key, topic);
  }
  *out = std::move(table);
  return Status::OK();
}

bool HandlerTable::IsParked(std::string_view topic) const {
  if (park_unknown_) return routes_.count(FoldTopic(topic)) == 0;
  return !parked_.empty() && parked_.count(FoldTopic(topic)) > 0;
}

std::vector<std::string> HandlerTable::ParkedTopics() const {
  std::vector<std::string> topics;
  topics.reserve(parked_.size());
  for (const auto& [key, spelling] : parked_) topics.push_back(spelling);
  std::sort(topics.begin(), topics.end());
  return topics;
}

const MessageHandler* HandlerTable::Find(std::string_view topic) const {
  auto it = routes_.find(FoldTopic(topic));
  return it == routes_.end() ? nullptr : it->second.handler.get();
}

std::shared_ptr<const MessageHandler> HandlerTable::FindShared(std::string_view topic) const {
  auto it = routes_.find(FoldTopic(topic));
  return it == routes_.end() ? nullptr : it->second.handler;
}

std::vector<std::string> HandlerTable::Topics() const {
  std::vector<std::string> topics;
  topics.reserve(routes_.size());
  for (const auto& [key, entry] : routes_) topics.push_back(entry.topic);
  std::sort(topics.begin(), topics.end());
  return topics;
}

}  // namespace outboxd
