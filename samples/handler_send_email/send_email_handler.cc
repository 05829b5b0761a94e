// Sample handler plugin "send_email": the seed scenario's SendEmailHandler, written against the
// outboxd SDK alone (obx/cpp/plugin.hpp) plus nlohmann_json.
//
// It serves the topic "email.send". Instead of talking SMTP it "sends" by appending one JSON line
// per message to a file (an outbox of emails that a mail relay or a test can read):
//   {"message_id":..., "tenant":..., "correlation_id":..., "attempt":..., "sent_at_unix_ms":...,
//    "from":..., "to":[...], "subject":..., "body":...}
//
// Config: {"file": "/var/spool/outboxd/emails.jsonl" (required), "from": "noreply@example.com"}.
// Payload: a JSON object {"to": "a@b.c" or ["a@b.c", ...] (required), "subject"?, "body"?,
// "from"?}. Outcomes: appended and flushed to disk -> OK; payload that is not JSON, has no usable
// "to" -> PERMANENT_FAILURE (retrying cannot fix it); the file cannot be opened or written -> RETRY
// (the disk may come back). Delivery is at least once: a retry after a crash can append a line
// twice, so consumers deduplicate on message_id.
//
// Thread-safe: the host may call Handle from several threads; appends are serialised by a mutex
// and each line is written with O_APPEND, so lines never interleave.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "obx/cpp/plugin.hpp"

namespace send_email {
namespace {

using nlohmann::json;

std::string ErrnoText(int err) {
  char buf[256];
  return strerror_r(err, buf, sizeof(buf));  // GNU strerror_r: thread-safe, returns the text
}

class SendEmailHandler : public obx::Handler {
 public:
  explicit SendEmailHandler(const obx::PluginContext& ctx) : host_(ctx.host) {
    json config;
    try {
      config = json::parse(ctx.config_json.begin(), ctx.config_json.end());
    } catch (const json::exception& e) {
      throw std::invalid_argument(std::string("send_email config: not valid JSON: ") + e.what());
    }
    if (!config.is_object()) throw std::invalid_argument("send_email config: expected an object");
    for (auto it = config.begin(); it != config.end(); ++it) {
      if (it.key() != "file" && it.key() != "from") {
        throw std::invalid_argument("send_email config: unknown key \"" + it.key() +
                                    "\" (expected file, from)");
      }
      if (!it.value().is_string() || it.value().get<std::string>().empty()) {
        throw std::invalid_argument("send_email config: \"" + it.key() +
                                    "\" must be a non-empty string");
      }
    }
    if (!config.contains("file")) {
      throw std::invalid_argument("send_email config: missing required key \"file\"");
    }
    file_ = config["file"].get<std::string>();
    from_ = config.value("from", std::string("noreply@example.com"));
  }

  obx::Result Handle(const obx::Message& m) override {
    json email =
        json::parse(m.payload.begin(), m.payload.end(), nullptr, /*allow_exceptions=*/false);
    if (email.is_discarded() || !email.is_object()) {
      return obx::Result::PermanentFailure("payload is not a JSON object");
    }
    json to = email.value("to", json());
    if (to.is_string()) to = json::array({to});
    bool to_ok = to.is_array() && !to.empty();
    for (const json& addr : to)
      to_ok = to_ok && addr.is_string() && !addr.get<std::string>().empty();
    if (!to_ok) {
      return obx::Result::PermanentFailure(
          "payload has no \"to\" field (a non-empty address or list of addresses)");
    }

    json line = {{"message_id", m.message_id},
                 {"tenant", m.tenant},
                 {"correlation_id", m.correlation_id},
                 {"attempt", m.attempt},
                 {"sent_at_unix_ms", host_.NowUnixMs()},
                 {"from", email.value("from", from_)},
                 {"to", to},
                 {"subject", email.value("subject", std::string())},
                 {"body", email.value("body", std::string())}};
    // Invalid UTF-8 in the payload is replaced rather than failing the message.
    std::string text = line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";

    std::string error = Append(text);
    if (!error.empty()) return obx::Result::Retry(error);
    if (host_.LogEnabled(OBX_LOG_DEBUG)) {
      host_.Debug("send_email: sent " + std::string(m.message_id) + " to " + to.dump());
    }
    return obx::Result::Ok();
  }

 private:
  // Appends text to file_ and flushes it to disk; returns an error text or "" on success.
  std::string Append(const std::string& text) {
    std::lock_guard<std::mutex> lock(mu_);
    int fd = open(file_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return "cannot open " + file_ + ": " + ErrnoText(errno);
    struct stat st {};
    const off_t size_before = fstat(fd, &st) == 0 ? st.st_size : -1;
    size_t done = 0;
    std::string error;
    while (done < text.size()) {
      ssize_t n = write(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error = "cannot write " + file_ + ": " + ErrnoText(errno);
        break;
      }
      done += static_cast<size_t>(n);
    }
    if (!error.empty() && done > 0 && size_before >= 0) {
      if (ftruncate(fd, size_before) != 0) {  // drop the partial line so the retry starts clean
        error += " (and the partial line could not be removed)";
      }
    }
    if (error.empty() && fdatasync(fd) != 0)
      error = "cannot sync " + file_ + ": " + ErrnoText(errno);
    if (close(fd) != 0 && error.empty()) error = "cannot close " + file_ + ": " + ErrnoText(errno);
    return error;
  }

  const obx::Host& host_;
  std::string file_;
  std::string from_;
  std::mutex mu_;  // serialises appends
};

const char* const kTopics[] = {"email.send", nullptr};

}  // namespace
}  // namespace send_email

OBX_DEFINE_PLUGIN("send_email", "1.0.0",
                  "Sample: appends each email.send message as a JSON line to an outbox file",
                  ::send_email::SendEmailHandler, void, ::send_email::kTopics)
