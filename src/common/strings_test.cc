#include "common/strings.h"

#include <gtest/gtest.h>

#include <cctype>

namespace outpost {
namespace {

TEST(Trim, RemovesBlanksOnBothSidesOnly) {
  EXPECT_EQ(Trim("  a b\t "), "a b");
  EXPECT_EQ(Trim("\t\tx"), "x");
  EXPECT_EQ(Trim("x"), "x");
  EXPECT_EQ(Trim(""), "");
  EXPECT_EQ(Trim(" \t "), "");
}

TEST(Trim, BlanksAreSpaceAndTabOnly) {
  EXPECT_EQ(Trim("\r\nx\n"), "\r\nx\n");
  EXPECT_EQ(Trim(" \n"), "\n");
}

TEST(Trim, WhitespaceIsWhatIsspaceAccepts) {
  EXPECT_EQ(Trim("\n\v\f\r x \t\r\n", kWhitespace), "x");
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    EXPECT_EQ(Trim(std::string_view(&ch, 1), kWhitespace).empty(), std::isspace(c) != 0) << c;
  }
}

TEST(Trim, ReturnsAViewIntoTheInput) {
  const std::string_view s = "  abc  ";
  const std::string_view t = Trim(s);
  EXPECT_EQ(t.data(), s.data() + 2);
  EXPECT_EQ(t.size(), 3u);
}

}  // namespace
}  // namespace outpost
