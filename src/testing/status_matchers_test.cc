#include "testing/status_matchers.h"

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace outpost::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// What a matcher prints when it rejects `value`: the explanation after "Actual: ...".
template <typename M, typename T>
std::string Explain(const M& matcher, const T& value) {
  ::testing::StringMatchResultListener listener;
  EXPECT_FALSE(::testing::ExplainMatchResult(matcher, value, &listener));
  return listener.str();
}

template <typename M>
std::string Describe(const M& matcher) {
  return ::testing::DescribeMatcher<const Status&>(matcher);
}

Result<int> Parsed(int v) { return v; }
Result<int> Failed() { return InvalidArgument("bad input on line 3"); }

TEST(StatusMatchers, IsOkMatchesOkStatusesAndResultsWithAValue) {
  EXPECT_THAT(Status::Ok(), IsOk());
  EXPECT_THAT(Parsed(1), IsOk());
  EXPECT_THAT(NotFound("x"), Not(IsOk()));
  EXPECT_THAT(Failed(), Not(IsOk()));
  EXPECT_OK(Status::Ok());
  EXPECT_OK(Parsed(2));
  ASSERT_OK(Status::Ok());
}

TEST(StatusMatchers, IsOkPrintsTheCodeAndMessageOfAFailure) {
  EXPECT_EQ(Explain(IsOk(), NotFound("no run 01J")), "whose status is NOT_FOUND: no run 01J");
  EXPECT_EQ(Explain(IsOk(), Failed()), "whose status is INVALID_ARGUMENT: bad input on line 3");
  EXPECT_EQ(Describe(IsOk()), "is OK");
  EXPECT_EQ(::testing::PrintToString(Conflict("version 3")), "CONFLICT: version 3");
  EXPECT_EQ(::testing::PrintToString(Parsed(7)), "OK: 7");
}

TEST(StatusMatchers, StatusIsComparesTheCodeAndOptionallyTheMessage) {
  EXPECT_THAT(NotFound("no run 01J"), StatusIs(Code::kNotFound));
  EXPECT_THAT(Failed(), StatusIs(Code::kInvalidArgument, HasSubstr("line 3")));
  EXPECT_THAT(Failed(), StatusIs(Code::kInvalidArgument, "bad input on line 3"));
  EXPECT_THAT(Status::Ok(), StatusIs(Code::kOk));
  EXPECT_THAT(Parsed(1), StatusIs(Code::kOk));
  EXPECT_THAT(Failed(), Not(StatusIs(Code::kNotFound)));
  EXPECT_THAT(Failed(), Not(StatusIs(Code::kInvalidArgument, HasSubstr("line 4"))));
}

TEST(StatusMatchers, StatusIsPrintsWhatDiffered) {
  EXPECT_EQ(Explain(StatusIs(Code::kConflict), Failed()),
            "whose status is INVALID_ARGUMENT: bad input on line 3");
  EXPECT_EQ(Explain(StatusIs(Code::kInvalidArgument, HasSubstr("line 4")), Failed()),
            "whose message \"bad input on line 3\" does not match");
  EXPECT_EQ(Describe(StatusIs(Code::kNotFound, HasSubstr("run"))),
            "has code NOT_FOUND and a message that has substring \"run\"");
}

TEST(StatusMatchers, AssertOkAndAssignMovesTheValueOut) {
  ASSERT_OK_AND_ASSIGN(int v, Parsed(41));
  EXPECT_EQ(v, 41);
  ASSERT_OK_AND_ASSIGN(v, Parsed(42));  // an existing variable
  EXPECT_EQ(v, 42);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<int> p,
                       Result<std::unique_ptr<int>>(std::make_unique<int>(5)));
  EXPECT_EQ(*p, 5);
}

// A failing ASSERT_OK_AND_ASSIGN ends the test with the status in the failure message.
void AssignFromFailure(int* out) { ASSERT_OK_AND_ASSIGN(*out, Failed()); }

TEST(StatusMatchers, AssertOkAndAssignFailsWithTheStatusAndStopsTheFunction) {
  int v = 0;
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    AssignFromFailure(&v);
  }
  ASSERT_EQ(failures.size(), 1);
  EXPECT_TRUE(failures.GetTestPartResult(0).fatally_failed());
  EXPECT_THAT(failures.GetTestPartResult(0).message(),
              HasSubstr("whose status is INVALID_ARGUMENT: bad input on line 3"));
  EXPECT_THAT(failures.GetTestPartResult(0).message(), HasSubstr("Failed()"));
  EXPECT_EQ(v, 0);
}

}  // namespace
}  // namespace outpost::testing
