#include "plugin/descriptor_check.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>

#include "plugin/plugin_text.h"

namespace outboxd {
namespace {

std::string Hex(uint32_t value) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08" PRIX32, value);
  return buf;
}

// A NUL-terminated string from plugin memory, read no further than max_length + 1 bytes.
std::string_view BoundedString(const char* s, size_t max_length) {
  return s == nullptr ? std::string_view() : std::string_view(s, strnlen(s, max_length + 1));
}

template <class Vtable>
Status CheckVtable(const Vtable* vtable, const char* kind) {
  const std::string k(kind);
  if (vtable == nullptr) {
    return Status::InvalidArgument("declares kind " + k + " but has no " + k + " vtable");
  }
  if (vtable->struct_size < sizeof(Vtable)) {
    return Status::InvalidArgument(
        k + " vtable struct_size " + std::to_string(vtable->struct_size) +
        " is smaller than its ABI 1.0 size " + std::to_string(sizeof(Vtable)));
  }
  return Status::OK();
}

Status CheckHandlerVtable(const obx_handler_vtable* vtable) {
  OBX_RETURN_IF_ERROR(CheckVtable(vtable, "handler"));
  if (vtable->create == nullptr) return Status::InvalidArgument("handler vtable has a null create");
  if (vtable->destroy == nullptr) {
    return Status::InvalidArgument("handler vtable has a null destroy");
  }
  if (vtable->handle == nullptr) return Status::InvalidArgument("handler vtable has a null handle");
  return Status::OK();
}

Status CheckDiscoveryVtable(const obx_discovery_vtable* vtable) {
  OBX_RETURN_IF_ERROR(CheckVtable(vtable, "discovery"));
  if (vtable->create == nullptr) {
    return Status::InvalidArgument("discovery vtable has a null create");
  }
  if (vtable->destroy == nullptr) {
    return Status::InvalidArgument("discovery vtable has a null destroy");
  }
  if (vtable->discover == nullptr) {
    return Status::InvalidArgument("discovery vtable has a null discover");
  }
  return Status::OK();
}

Status CheckTopics(const obx_plugin_descriptor& d) {
  if (d.topics == nullptr) return Status::OK();
  if ((d.kinds & OBX_KIND_HANDLER) == 0) {
    return Status::InvalidArgument("declares topics but is not a handler");
  }
  std::set<std::string_view> seen;
  size_t i = 0;
  for (; d.topics[i] != nullptr; ++i) {
    if (i == kMaxDeclaredTopics) {
      return Status::InvalidArgument("declares more than " + std::to_string(kMaxDeclaredTopics) +
                                     " topics (is the list NULL-terminated?)");
    }
    const std::string_view topic = BoundedString(d.topics[i], kMaxTopicLength);
    if (topic.empty()) return Status::InvalidArgument("declares an empty topic");
    if (topic.size() > kMaxTopicLength) {
      return Status::InvalidArgument("declares a topic longer than " +
                                     std::to_string(kMaxTopicLength) + " characters");
    }
    if (HasControlCharacter(topic) || !IsValidUtf8(topic)) {
      return Status::InvalidArgument("declares topic '" + EscapeForLog(topic) +
                                     "' with control characters or invalid UTF-8");
    }
    if (!seen.insert(topic).second) {
      return Status::InvalidArgument("declares topic '" + std::string(topic) + "' twice");
    }
  }
  if (i == 0) {
    return Status::InvalidArgument(
        "declares an empty topic list (use NULL for topics from configuration)");
  }
  return Status::OK();
}

}  // namespace

bool IsValidPluginName(std::string_view name) {
  if (name.empty() || name.size() > kMaxPluginNameLength) return false;
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status CheckDescriptor(const obx_plugin_descriptor& d) {
  // magic, abi_major and abi_minor sit at fixed offsets in every major: read them first.
  if (d.magic != OBX_PLUGIN_MAGIC) {
    return Status::InvalidArgument("bad descriptor magic " + Hex(d.magic) + ", expected " +
                                   Hex(OBX_PLUGIN_MAGIC));
  }
  if (d.abi_major != OBX_ABI_MAJOR) {
    return Status::InvalidArgument("ABI major " + std::to_string(d.abi_major) + ", host speaks " +
                                   std::to_string(OBX_ABI_MAJOR));
  }
  if (d.abi_minor > OBX_ABI_MINOR) {
    return Status::InvalidArgument(
        "needs ABI " + std::to_string(d.abi_major) + "." + std::to_string(d.abi_minor) +
        ", host speaks " + std::to_string(OBX_ABI_MAJOR) + "." + std::to_string(OBX_ABI_MINOR));
  }
  if (d.struct_size < sizeof(obx_plugin_descriptor)) {
    return Status::InvalidArgument("descriptor struct_size " + std::to_string(d.struct_size) +
                                   " is smaller than its ABI 1.0 size " +
                                   std::to_string(sizeof(obx_plugin_descriptor)));
  }
  const std::string_view name = BoundedString(d.name, kMaxPluginNameLength);
  if (!IsValidPluginName(name)) {
    return Status::InvalidArgument("invalid plugin name '" + EscapeForLog(name) + "' (must be 1-" +
                                   std::to_string(kMaxPluginNameLength) +
                                   " characters of [a-z0-9_.-])");
  }
  const std::string_view version = BoundedString(d.version, kMaxPluginVersionLength);
  if (version.empty() || version.size() > kMaxPluginVersionLength || HasControlCharacter(version) ||
      !IsValidUtf8(version)) {
    return Status::InvalidArgument("plugin '" + std::string(name) +
                                   "' has an empty or invalid version '" + EscapeForLog(version) +
                                   "'");
  }
  constexpr uint32_t kKnownKinds = OBX_KIND_HANDLER | OBX_KIND_DISCOVERY;
  if (d.kinds == 0) return Status::InvalidArgument("declares no kind (kinds is 0)");
  if ((d.kinds & ~kKnownKinds) != 0) {
    return Status::InvalidArgument("declares unknown kind bits " + Hex(d.kinds & ~kKnownKinds));
  }
  if ((d.kinds & OBX_KIND_HANDLER) != 0) OBX_RETURN_IF_ERROR(CheckHandlerVtable(d.handler));
  if ((d.kinds & OBX_KIND_DISCOVERY) != 0) OBX_RETURN_IF_ERROR(CheckDiscoveryVtable(d.discovery));
  return CheckTopics(d);
}

}  // namespace outboxd
