#include "http/event_resume.h"

#include <gtest/gtest.h>

namespace outpost::http {
namespace {

Request With(std::optional<std::string> after, std::optional<std::string> last_event_id) {
  Request req;
  if (after) req.query.emplace("after", *after);
  if (last_event_id) req.headers.Add("Last-Event-ID", *last_event_id);
  return req;
}

std::string ErrorPath(const Status& st) {
  return std::string(st.details().at("errors").at(0).at("path").as_string());
}

TEST(ParseCount, AcceptsOnlyPlainNonNegativeDecimals) {
  EXPECT_EQ(ParseCount("0"), 0);
  EXPECT_EQ(ParseCount("42"), 42);
  EXPECT_EQ(ParseCount("9223372036854775807"), INT64_MAX);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1x", "0x10", "9223372036854775808",
                          "\xd9\xa1" /* Arabic-Indic one */, "1e3"}) {
    EXPECT_FALSE(ParseCount(bad)) << bad;
  }
}

TEST(ResumeAfter, StartsAtZeroAndLastEventIdWinsOverAfter) {
  EXPECT_EQ(*ResumeAfter(With(std::nullopt, std::nullopt)), 0);
  EXPECT_EQ(*ResumeAfter(With("7", std::nullopt)), 7);
  EXPECT_EQ(*ResumeAfter(With("7", "9")), 9);
  EXPECT_EQ(*ResumeAfter(With("7", "")), 7);  // EventSource's "no id seen yet"
}

TEST(ResumeAfter, BadValuesNameTheirSource) {
  Result<std::int64_t> after = ResumeAfter(With("-3", std::nullopt));
  ASSERT_EQ(after.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ErrorPath(after.status()), "after");
  Result<std::int64_t> header = ResumeAfter(With(std::nullopt, "12abc"));
  ASSERT_EQ(header.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ErrorPath(header.status()), "Last-Event-ID");
  // A bad ?after= is refused even when the header would decide.
  EXPECT_EQ(ResumeAfter(With("x", "5")).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace outpost::http
