#include "common/crypto.h"

#include <gtest/gtest.h>

namespace outpost {
namespace {

TEST(Sha256, MatchesKnownDigests) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Sha256Digest("abc")), Sha256Hex("abc"));
  EXPECT_EQ(Sha256Digest("abc").size(), 32u);
}

TEST(Sha256, IncrementalEqualsOneShot) {
  Sha256 h;
  h.Update("a");
  h.Update("");
  h.Update("bc");
  EXPECT_EQ(h.HexDigest(), Sha256Hex("abc"));
  Sha256 raw;
  raw.Update("abc");
  EXPECT_EQ(raw.Digest(), Sha256Digest("abc"));
}

// RFC 4231 test cases 1 and 2.
TEST(HmacSha256, MatchesRfc4231) {
  EXPECT_EQ(HmacSha256Hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            HmacSha256Hex("Jefe", "what do ya want for nothing?"));
}

TEST(Random, GivesTheAskedLengthAndDiffers) {
  Result<std::string> a = RandomBytes(32), b = RandomBytes(32);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(*a, *b);
  Result<std::string> hex = RandomHex(16);
  ASSERT_TRUE(hex.ok());
  EXPECT_EQ(hex->size(), 32u);
  EXPECT_EQ(hex->find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(RandomBytes(0)->size(), 0u);
}

TEST(HexEncode, LowercaseTwoDigitsPerByte) {
  EXPECT_EQ(HexEncode(std::string("\x00\x0f\xa0\xff", 4)), "000fa0ff");
  EXPECT_EQ(HexEncode(""), "");
}

TEST(ConstantTimeEquals, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

}  // namespace
}  // namespace outpost
