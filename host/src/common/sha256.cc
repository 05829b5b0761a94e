#include "common/sha256.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

namespace outboxd {

struct Sha256::Context {
  EVP_MD_CTX* md = nullptr;
  bool ok = false;
};

Sha256::Sha256() : context_(std::make_unique<Context>()) {
  context_->md = EVP_MD_CTX_new();
  context_->ok = context_->md != nullptr &&
                 EVP_DigestInit_ex(context_->md, EVP_sha256(), nullptr) == 1;
}

Sha256::~Sha256() { EVP_MD_CTX_free(context_->md); }

void Sha256::Update(const void* data, std::size_t size) {
  if (context_->ok && size > 0) context_->ok = EVP_DigestUpdate(context_->md, data, size) == 1;
}

std::string Sha256::HexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!context_->ok || EVP_DigestFinal_ex(context_->md, digest, &length) != 1) return "";
  context_->ok = false;
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xF];
  }
  return hex;
}

Status Sha256OfFile(const std::filesystem::path& path, std::string* hex) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot open " + path.string() + ": " + std::strerror(errno));
  Sha256 sha;
  std::vector<char> buffer(64 * 1024);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    sha.Update(buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return Status::IoError("cannot read " + path.string());
  *hex = sha.HexDigest();
  if (hex->empty()) return Status::Internal("libcrypto could not hash " + path.string());
  return Status::OK();
}

}  // namespace outboxd
