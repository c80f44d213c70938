#include "artifacts/artifact_store.h"

#include <gtest/gtest.h>

#include <string>

namespace outpost::artifacts {
namespace {

TEST(ValidateKey, AcceptsRelativeKeysOfSafeSegments) {
  for (const char* key : {"a", "dispatches/01J0ABCDEF/output.log", "x/.hidden", "a-b_c.d/e",
                          "deep/er/and/deeper/still.txt", "..a", "a.."}) {
    EXPECT_TRUE(ValidateKey(key).ok()) << key << ": " << ValidateKey(key).message();
  }
}

TEST(ValidateKey, AcceptsExactly512Bytes) {
  EXPECT_TRUE(ValidateKey(std::string(512, 'k')).ok());
  std::string nested = std::string(255, 'a') + "/" + std::string(256, 'b');
  EXPECT_TRUE(ValidateKey(nested).ok());
}

TEST(ValidateKey, RejectsWhatCouldEscapeOrNeedEscaping) {
  const std::string cases[] = {"",
                               "/etc/passwd",
                               "../up",
                               "a/../b",
                               "a/..",
                               "./a",
                               "a/./b",
                               "a//b",
                               "a/",
                               "a b",
                               "a\\b",
                               "a%2e",
                               "caf\xc3\xa9",
                               std::string("nul\0x", 5),
                               "new\nline",
                               "q?x",
                               "h#x",
                               std::string(513, 'k')};
  for (const std::string& key : cases) {
    Status st = ValidateKey(key);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << "'" << key << "'";
  }
}

TEST(ValidateKey, MessageNamesTheProblem) {
  EXPECT_NE(ValidateKey("a//b").message().find("empty path segment"), std::string::npos);
  EXPECT_NE(ValidateKey("a/../b").message().find("'..'"), std::string::npos);
  EXPECT_NE(ValidateKey("/a").message().find("relative"), std::string::npos);
  EXPECT_NE(ValidateKey(std::string(600, 'x')).message().find("512"), std::string::npos);
  EXPECT_LT(ValidateKey(std::string(600, 'x')).message().size(), 200u);
}

}  // namespace
}  // namespace outpost::artifacts
