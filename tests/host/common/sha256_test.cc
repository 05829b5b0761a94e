// Sha256 / Sha256OfFile: FIPS 180-2 test vectors, streaming in pieces, and files.
#include "common/sha256.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "support/temp_dir.h"

namespace outboxd {
namespace {

std::string HashOf(const std::string& text) {
  Sha256 sha;
  sha.Update(text.data(), text.size());
  return sha.HexDigest();
}

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(HashOf(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HashOf("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HashOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, PiecesHashLikeTheWhole) {
  const std::string text(100000, 'a');
  Sha256 sha;
  for (size_t i = 0; i < text.size(); i += 777) {
    sha.Update(text.data() + i, std::min<size_t>(777, text.size() - i));
  }
  EXPECT_EQ(sha.HexDigest(), HashOf(text));
}

TEST(Sha256Test, FileContent) {
  testing::TempDir dir;
  std::string hex;
  ASSERT_TRUE(Sha256OfFile(dir.WriteFile("abc.txt", "abc"), &hex).ok());
  EXPECT_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Status missing = Sha256OfFile(dir.path() / "missing", &hex);
  EXPECT_EQ(missing.code(), Status::Code::kIoError);
  EXPECT_NE(missing.message().find("missing"), std::string::npos) << missing.message();
}

}  // namespace
}  // namespace outboxd
