#include "common/encoding.h"

#include <gtest/gtest.h>

namespace outpost {
namespace {

TEST(Utf8, ValidatesWellFormedText) {
  EXPECT_TRUE(IsValidUtf8("plain ascii\n"));
  EXPECT_TRUE(IsValidUtf8("gr\xC3\xBC\xC3\x9F \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));              // cut
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xFF"));
}

TEST(Utf8, CompletePrefixHoldsBackOnlyAnUnfinishedSequence) {
  EXPECT_EQ(Utf8CompletePrefix("abc"), 3u);
  EXPECT_EQ(Utf8CompletePrefix("ab\xE2\x82"), 2u);      // € cut after two bytes
  EXPECT_EQ(Utf8CompletePrefix("ab\xE2\x82\xAC"), 5u);  // complete
  EXPECT_EQ(Utf8CompletePrefix("ab\xF0\x9F\x98"), 2u);
  EXPECT_EQ(Utf8CompletePrefix("ab\xF0"), 2u);
  EXPECT_EQ(Utf8CompletePrefix("ab\xFF"), 3u);      // invalid, not unfinished: nothing to wait for
  EXPECT_EQ(Utf8CompletePrefix("ab\xE2\x41"), 4u);  // broken sequence
  EXPECT_EQ(Utf8CompletePrefix(""), 0u);
}

TEST(Utf8, InvalidBytesBecomeReplacementCharacters) {
  EXPECT_EQ(ToValidUtf8("ok \xE2\x82\xAC"), "ok \xE2\x82\xAC");
  EXPECT_EQ(ToValidUtf8("a\xFF"
                        "b\xE2\x82"),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Base64, RoundTripsEveryLengthAndRejectsJunk) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    bytes.push_back(static_cast<char>(i * 7));
    std::optional<std::string> back = Base64Decode(Base64Encode(bytes));
    ASSERT_TRUE(back.has_value()) << i;
    EXPECT_EQ(*back, bytes);
  }
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_FALSE(Base64Decode("Zm9vYg=").has_value());
  EXPECT_FALSE(Base64Decode("Zm=vYg==").has_value());
  EXPECT_FALSE(Base64Decode("Zm9v!g==").has_value());
}

}  // namespace
}  // namespace outpost
