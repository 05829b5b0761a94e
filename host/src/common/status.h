// Status: the result of an operation that can fail, after leveldb's Status. Host code returns a
// Status at every boundary (stores, plugins, discovery, config) instead of throwing; exceptions from
// libraries (Poco, Boost, nlohmann) are caught at the edge that calls them and turned into a Status
// whose message names the thing that failed.
//
// THREADING: thread-compatible (const methods may be called concurrently).
#ifndef OUTBOXD_COMMON_STATUS_H_
#define OUTBOXD_COMMON_STATUS_H_

#include <string>
#include <utility>

namespace outboxd {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,  // bad input: config, argument, malformed record
    kNotFound,         // a named thing does not exist (file, plugin, table)
    kUnavailable,      // transient: database unreachable, locked, busy; retry later
    kIoError,          // file system / process failure
    kInternal,         // an invariant broke, or a dependency failed in an unexpected way
    kNotSupported,     // recognised but not implemented (e.g. an unknown connection scheme)
  };

  Status() = default;
  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Unavailable(std::string msg) { return Status(Code::kUnavailable, std::move(msg)); }
  static Status IoError(std::string msg) { return Status(Code::kIoError, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }
  static Status NotSupported(std::string msg) { return Status(Code::kNotSupported, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>".
  Status WithContext(const std::string& context) const {
    return ok() ? *this : Status(code_, context + ": " + message_);
  }

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

inline std::string Status::ToString() const {
  if (ok()) return "OK";
  const char* name = "";
  switch (code_) {
    case Code::kOk: name = "OK"; break;
    case Code::kInvalidArgument: name = "invalid argument"; break;
    case Code::kNotFound: name = "not found"; break;
    case Code::kUnavailable: name = "unavailable"; break;
    case Code::kIoError: name = "I/O error"; break;
    case Code::kInternal: name = "internal error"; break;
    case Code::kNotSupported: name = "not supported"; break;
  }
  return std::string(name) + ": " + message_;
}

}  // namespace outboxd

#define OBX_RETURN_IF_ERROR(expr)            \
  do {                                       \
    ::outboxd::Status obx_status_ = (expr);  \
    if (!obx_status_.ok()) return obx_status_; \
  } while (0)

#endif  // OUTBOXD_COMMON_STATUS_H_
