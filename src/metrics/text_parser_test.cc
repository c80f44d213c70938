#include "metrics/text_parser.h"

#include <gtest/gtest.h>

#include <cmath>

#include "metrics/metrics.h"

namespace outpost::metrics {
namespace {

TEST(TextParser, ReadsWhatTheWriterWrites) {
  Registry r;
  r.AddCounter("a_total", "A.", {"k"}).Labels({"v \"q\"\n\\"}).Inc(5);
  r.AddHistogram("b_seconds", "B.", {}, {0.5}).Labels({}).Observe(0.2);
  auto parsed = ParseText(r.ExposeText());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->types.at("a_total"), "counter");
  EXPECT_EQ(parsed->types.at("b_seconds"), "histogram");
  EXPECT_EQ(parsed->help.at("a_total"), "A.");
  EXPECT_EQ(parsed->Value("a_total", {{"k", "v \"q\"\n\\"}}), 5);
  EXPECT_EQ(parsed->Value("b_seconds_bucket", {{"le", "+Inf"}}), 1);
  EXPECT_EQ(parsed->Value("b_seconds_bucket", {{"le", "0.5"}}), 1);
  EXPECT_DOUBLE_EQ(parsed->Sum("b_seconds_sum"), 0.2);
}

TEST(TextParser, AcceptsTimestampsTrailingCommasCommentsAndSpecialValues) {
  auto parsed = ParseText(
      "# a free comment\n"
      "\n"
      "x{a=\"1\",} 3 1700000000000\n"
      "y +Inf\n"
      "z NaN\n"
      "w -2.5e-3\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->samples.size(), 4u);
  EXPECT_EQ(parsed->Value("x", {{"a", "1"}}), 3);
  EXPECT_TRUE(std::isinf(*parsed->Value("y")));
  EXPECT_TRUE(std::isnan(*parsed->Value("z")));
  EXPECT_DOUBLE_EQ(*parsed->Value("w"), -0.0025);
}

TEST(TextParser, RefusesMalformedLinesWithTheirNumber) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c : {
           Case{"ok 1\nbad-name 1\n", "line 2: invalid metric name 'bad-name'"},
           Case{"x{a=1} 2\n", "line 1: expected '\"' for the value of label a"},
           Case{"x{a=\"1\" 2\n", "line 1: expected ',' or '}' after label a"},
           Case{"x{a=\"1\"} \n", "line 1: missing value"},
           Case{"x{a=\"1\"} one\n", "line 1: invalid value 'one'"},
           Case{"x{a=\"\\t\"} 1\n", "line 1: invalid escape in the value of label a"},
           Case{"x{a=\"1\",a=\"2\"} 1\n", "line 1: label a repeated"},
           Case{"# TYPE x countr\n", "line 1: unknown metric type 'countr'"},
           Case{"x 1 soon\n", "line 1: invalid timestamp 'soon'"},
       }) {
    auto parsed = ParseText(c.text);
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(parsed.status().message(), c.message) << c.text;
  }
}

TEST(TextParser, SumFiltersByLabels) {
  auto parsed = ParseText(
      "r_total{route=\"/a\",code=\"200\"} 2\n"
      "r_total{route=\"/a\",code=\"500\"} 3\n"
      "r_total{route=\"/b\",code=\"500\"} 4\n");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->Sum("r_total"), 9);
  EXPECT_EQ(parsed->Sum("r_total", {{"code", "500"}}), 7);
  EXPECT_EQ(parsed->Sum("r_total", {{"route", "/a"}, {"code", "500"}}), 3);
  EXPECT_EQ(parsed->Sum("nothing"), 0);
}

}  // namespace
}  // namespace outpost::metrics
