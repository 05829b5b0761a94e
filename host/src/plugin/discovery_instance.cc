#include "plugin/discovery_instance.h"

#include <spdlog/spdlog.h>

#include <cstdint>
#include <exception>
#include <set>
#include <string_view>
#include <utility>

#include "common/mutex.h"
#include "plugin/create_call.h"
#include "plugin/plugin_text.h"

namespace outboxd {
namespace {

std::string_view View(obx_str s) {
  return (s.data == nullptr || s.size == 0) ? std::string_view() : std::string_view(s.data, s.size);
}

// Collects the records of one discover call. Thread-safe: the SDK allows emitting from plugin
// helper threads while discover runs.
class RecordCollector : public DatabaseSink {
 public:
  RecordCollector(const std::string& plugin, RejectedRecordLog* rejected)
      : plugin_(plugin), rejected_(rejected) {}

  int32_t Emit(const obx_database_record& record) override {
    MutexLock lock(&mu_);
    ++seen_;
    // The rules are the SDK's (obx/cpp/validate.hpp), which FakeHost applies too.
    std::string reason = ::obx::validate::RecordProblem(record);
    if (!reason.empty()) return Skip(record, reason);
    const std::string_view id = View(record.identifier);
    const std::string_view conn = View(record.connection_string);
    const std::string_view schema = View(record.schema_name);
    const std::string_view table = View(record.table_name);
    if (identifiers_.count(id) != 0) return Skip(record, ::obx::validate::kDuplicateIdentifier);

    TenantLocation location;
    location.identifier.assign(id);
    location.connection_string.assign(conn);
    if (!schema.empty()) location.schema_name.assign(schema);
    if (!table.empty()) location.table_name.assign(table);
    locations_.push_back(std::move(location));
    identifiers_.insert(locations_.back().identifier);
    return OBX_STATUS_OK;
  }

  std::vector<TenantLocation> Take() {
    MutexLock lock(&mu_);
    return std::move(locations_);
  }

 private:
  int32_t Skip(const obx_database_record& record, const std::string& reason) REQUIRES(mu_) {
    const std::string_view id = record.struct_size >= sizeof(obx_database_record)
                                    ? View(record.identifier)
                                    : std::string_view();
    const std::string_view conn = record.struct_size >= sizeof(obx_database_record)
                                      ? View(record.connection_string)
                                      : std::string_view();
    const std::string_view schema = record.struct_size >= sizeof(obx_database_record)
                                        ? View(record.schema_name)
                                        : std::string_view();
    const std::string_view table = record.struct_size >= sizeof(obx_database_record)
                                       ? View(record.table_name)
                                       : std::string_view();
    std::string fingerprint;
    for (const std::string_view part : {id, conn, schema, table, std::string_view(reason)}) {
      fingerprint.append(part).push_back('\0');
    }
    bool repeat = false;
    if (!rejected_->ShouldLog(fingerprint, RejectedRecordLog::Clock::now(), &repeat)) {
      return OBX_STATUS_INVALID_ARGUMENT;  // logged recently, unchanged: counted only
    }
    const std::string line = fmt::format(
        "discovery plugin '{}': record #{} '{}' skipped: {} (connection {}){}", plugin_, seen_,
        EscapeForLog(id), reason,
        conn.empty() ? std::string("<none>") : "'" + EscapeForLog(conn) + "'",
        repeat ? "; still skipped, repeated at most every 10 minutes" : "");
    spdlog::warn("{}", RedactConnectionSecrets(line, conn));  // redacted last, the line whole
    return OBX_STATUS_INVALID_ARGUMENT;
  }

  const std::string plugin_;
  RejectedRecordLog* const rejected_;
  Mutex mu_;
  size_t seen_ GUARDED_BY(mu_) = 0;
  std::vector<TenantLocation> locations_ GUARDED_BY(mu_);
  std::set<std::string, std::less<>> identifiers_ GUARDED_BY(mu_);
};

}  // namespace

DiscoveryInstance::DiscoveryInstance(std::shared_ptr<LoadedPlugin> plugin)
    : plugin_(std::move(plugin)),
      vtable_(plugin_->discovery_vtable()),
      host_ctx_{plugin_->name()} {}

Status DiscoveryInstance::Create(std::shared_ptr<LoadedPlugin> plugin,
                                 const std::string& config_json,
                                 std::unique_ptr<DiscoveryInstance>* out) {
  if (plugin == nullptr) return Status::InvalidArgument("no plugin given for a discovery instance");
  if (!plugin->is_discovery()) {
    return Status::InvalidArgument("plugin '" + plugin->name() + "' is not a discovery provider");
  }
  std::unique_ptr<DiscoveryInstance> discovery(new DiscoveryInstance(std::move(plugin)));
  OBX_RETURN_IF_ERROR(CallCreate(discovery->vtable_->create, discovery->host_ctx_, config_json,
                                 "discovery", &discovery->abort_, &discovery->instance_));
  discovery->created_ = true;
  *out = std::move(discovery);
  return Status::OK();
}

DiscoveryInstance::~DiscoveryInstance() {
  if (!created_) return;
  try {
    vtable_->destroy(instance_);
  } catch (...) {  // nothing to report it to; the instance is gone either way
  }
}

Status DiscoveryInstance::Discover(std::vector<TenantLocation>* out) {
  const std::string what = "plugin '" + plugin_->name() + "': discovery failed";
  try {
    RecordCollector collector(plugin_->name(), &rejected_);
    rejected_.StartListing();
    obx_call_ctx call(&host_ctx_, &abort_, &collector);
    int32_t rc = OBX_STATUS_ERROR;
    try {
      rc = vtable_->discover(instance_, &call);
    } catch (const std::exception& e) {
      return Status::Unavailable(what + ": exception escaped the plugin: " + e.what());
    } catch (...) {
      return Status::Unavailable(what + ": exception of unknown type escaped the plugin");
    }
    if (rc != OBX_STATUS_OK) {
      std::string text = call.TakeError();
      if (text.empty()) text = "status " + std::to_string(rc) + " without an error text";
      // The plugin redacts what it knows; this catches the shapes a plugin author missed.
      return Status::Unavailable(RedactConnectionString(what + ": " + text));
    }
    *out = collector.Take();
    rejected_.EndListing();
    return Status::OK();
  } catch (const std::exception& e) {  // out of memory while copying records
    return Status::Internal(what + ": " + e.what());
  }
}

}  // namespace outboxd
