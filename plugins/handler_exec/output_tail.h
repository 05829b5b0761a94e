// OutputTail: keeps the last N bytes of a child's stderr, for the error text of a failed delivery.
//
// Text() returns the kept bytes as safe UTF-8 for a database text column and a log line: it starts
// at a character boundary, invalid sequences and control characters other than newline/tab become
// '?', surrounding whitespace is trimmed, and "..." marks that earlier output was dropped.
// Thread-compatible (one per child run).
#ifndef OUTBOXD_PLUGINS_HANDLER_EXEC_OUTPUT_TAIL_H_
#define OUTBOXD_PLUGINS_HANDLER_EXEC_OUTPUT_TAIL_H_

#include <cstddef>
#include <string>

namespace outboxd::handler_exec {

class OutputTail {
 public:
  explicit OutputTail(size_t capacity) : capacity_(capacity) {}

  void Append(const char* data, size_t size);
  std::string Text() const;

 private:
  size_t capacity_;
  std::string buffer_;  // at most 2 * capacity_ bytes; the tail is its last capacity_ bytes
  bool dropped_ = false;
};

}  // namespace outboxd::handler_exec

#endif  // OUTBOXD_PLUGINS_HANDLER_EXEC_OUTPUT_TAIL_H_
