// Sha256: the one SHA-256 of the host (plugin staging names, the allowlist, reload identity), over
// OpenSSL's libcrypto EVP interface. libpq already links libssl/libcrypto, so this adds no library
// to the process, and it keeps Poco out of every folder but store/.
//
// Sha256 is thread-compatible (one object per thread); Sha256OfFile is thread-safe. Errors:
// Sha256OfFile returns IoError for a file that cannot be opened or read; the hasher itself only
// fails when libcrypto cannot allocate, which is reported as an empty HexDigest().
#ifndef OUTBOXD_COMMON_SHA256_H_
#define OUTBOXD_COMMON_SHA256_H_

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "common/status.h"

namespace outboxd {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, std::size_t size);
  // Lower-case hex, 64 characters; ends the computation (call once).
  std::string HexDigest();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

// The SHA-256 of a file's content, lower-case hex.
Status Sha256OfFile(const std::filesystem::path& path, std::string* hex);

}  // namespace outboxd

#endif  // OUTBOXD_COMMON_SHA256_H_
