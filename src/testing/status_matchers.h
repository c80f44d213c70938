// gmock matchers for Status and Result<T>, after abseil's status_matchers.h. On failure they print
// the code and the message, so a test never needs `<< status.ToString()` to be readable.
//
//   EXPECT_OK(store->Put(run));                                    // Status or Result<T>
//   EXPECT_THAT(store->Get(id), StatusIs(Code::kNotFound));
//   EXPECT_THAT(Parse("x"), StatusIs(Code::kInvalidArgument, HasSubstr("line 1")));
//   ASSERT_OK_AND_ASSIGN(auto run, store->Get(id));                // run is the value
//
// Prefer StatusIs(code) to "not OK": the code is what the caller acts on.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <utility>

#include "common/status.h"

namespace outpost {

// Printers for gtest (found by argument-dependent lookup): "OK", or "NOT_FOUND: message".
inline void PrintTo(const Status& s, std::ostream* os) { *os << s.ToString(); }
template <typename T>
void PrintTo(const Result<T>& r, std::ostream* os) {
  if (r.ok()) {
    *os << "OK: " << ::testing::PrintToString(r.value());
  } else {
    *os << r.status().ToString();
  }
}

namespace testing {
namespace internal {

inline const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}

class IsOkMatcher {
 public:
  template <typename T>
  bool MatchAndExplain(const T& actual, ::testing::MatchResultListener* listener) const {
    const Status& s = StatusOf(actual);
    if (!s.ok()) *listener << "whose status is " << s.ToString();
    return s.ok();
  }
  void DescribeTo(std::ostream* os) const { *os << "is OK"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "is not OK"; }
};

class StatusIsMatcher {
 public:
  StatusIsMatcher(Code code, ::testing::Matcher<const std::string&> message)
      : code_(code), message_(std::move(message)) {}

  template <typename T>
  bool MatchAndExplain(const T& actual, ::testing::MatchResultListener* listener) const {
    const Status& s = StatusOf(actual);
    if (s.code() != code_) {
      *listener << "whose status is " << s.ToString();
      return false;
    }
    ::testing::StringMatchResultListener inner;
    if (!message_.MatchAndExplain(s.message(), &inner)) {
      *listener << "whose message \"" << s.message() << "\" does not match";
      if (!inner.str().empty()) *listener << ", " << inner.str();
      return false;
    }
    return true;
  }
  void DescribeTo(std::ostream* os) const {
    *os << "has code " << CodeName(code_) << " and a message that ";
    message_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "does not have code " << CodeName(code_) << " or has a message that ";
    message_.DescribeNegationTo(os);
  }

 private:
  Code code_;
  ::testing::Matcher<const std::string&> message_;
};

}  // namespace internal

// Matches an OK Status, or a Result<T> that holds a value.
inline ::testing::PolymorphicMatcher<internal::IsOkMatcher> IsOk() {
  return ::testing::MakePolymorphicMatcher(internal::IsOkMatcher());
}

// Matches a Status (or a Result<T>'s status) with `code` and a message matching `message` (a
// matcher such as HasSubstr("..."), or a string that must be equal).
template <typename MessageMatcher>
::testing::PolymorphicMatcher<internal::StatusIsMatcher> StatusIs(Code code,
                                                                  MessageMatcher message) {
  return ::testing::MakePolymorphicMatcher(internal::StatusIsMatcher(
      code, ::testing::MatcherCast<const std::string&>(std::move(message))));
}
inline ::testing::PolymorphicMatcher<internal::StatusIsMatcher> StatusIs(Code code) {
  return StatusIs(code, ::testing::_);
}

}  // namespace testing
}  // namespace outpost

#define EXPECT_OK(expr) EXPECT_THAT((expr), ::outpost::testing::IsOk())
#define ASSERT_OK(expr) ASSERT_THAT((expr), ::outpost::testing::IsOk())

// ASSERT_OK_AND_ASSIGN(lhs, expr): evaluates `expr` (a Result<T>) once; fails the test (and
// returns) when it is not OK, printing its status; otherwise moves the value into `lhs`, which
// may be a declaration (`auto run`) or an existing variable.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  OUTPOST_ASSERT_OK_AND_ASSIGN_IMPL(OUTPOST_TESTING_CONCAT(outpost_result_, __LINE__), lhs, expr)
#define OUTPOST_ASSERT_OK_AND_ASSIGN_IMPL(result, lhs, expr) \
  auto result = (expr);                                      \
  ASSERT_THAT(result, ::outpost::testing::IsOk()) << #expr;  \
  lhs = std::move(result).value()
#define OUTPOST_TESTING_CONCAT(a, b) OUTPOST_TESTING_CONCAT_INNER(a, b)
#define OUTPOST_TESTING_CONCAT_INNER(a, b) a##b
