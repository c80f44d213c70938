#include "http/media_type.h"

#include <gtest/gtest.h>

namespace outpost::http {
namespace {

TEST(IsJsonContentType, AcceptsJsonWithOptionalUtf8Charset) {
  EXPECT_TRUE(IsJsonContentType("application/json"));
  EXPECT_TRUE(IsJsonContentType("Application/JSON"));
  EXPECT_TRUE(IsJsonContentType("application/json; charset=utf-8"));
  EXPECT_TRUE(IsJsonContentType("application/json;charset=\"UTF-8\""));
  EXPECT_FALSE(IsJsonContentType(""));
  EXPECT_FALSE(IsJsonContentType("text/plain"));
  EXPECT_FALSE(IsJsonContentType("application/x-www-form-urlencoded"));
  EXPECT_FALSE(IsJsonContentType("application/json; charset=latin1"));
  EXPECT_FALSE(IsJsonContentType("application/jsonx"));
}

TEST(Accept, BrowsersPreferHtmlCurlAndJsonClientsDoNot) {
  EXPECT_TRUE(
      PrefersHtml("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"));
  EXPECT_FALSE(PrefersHtml(std::nullopt));
  EXPECT_FALSE(PrefersHtml("*/*"));
  EXPECT_FALSE(PrefersHtml("application/json"));
  EXPECT_FALSE(PrefersHtml("text/html;q=0.5, application/json"));
  EXPECT_TRUE(PrefersHtml("text/*"));
}

TEST(Accept, MostSpecificRangeDecidesTheQuality) {
  EXPECT_DOUBLE_EQ(AcceptQuality("text/*;q=0.3, text/html;q=0.7, */*;q=0.1", "text/html"), 0.7);
  EXPECT_DOUBLE_EQ(AcceptQuality("text/*;q=0.3, */*;q=0.1", "text/plain"), 0.3);
  EXPECT_DOUBLE_EQ(AcceptQuality("text/html", "application/json"), 0.0);
  EXPECT_DOUBLE_EQ(AcceptQuality("", "application/json"), 1.0);
}

}  // namespace
}  // namespace outpost::http
