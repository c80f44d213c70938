#include "common/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace outpost {
namespace {

TEST(ErrorName, NamesEveryCodeAsTheApiContractDoes) {
  EXPECT_EQ(ErrorName(Code::kOk), "");
  EXPECT_EQ(ErrorName(Code::kInvalidArgument), "VALIDATION_ERROR");
  EXPECT_EQ(ErrorName(Code::kUnauthenticated), "AUTHENTICATION_ERROR");
  EXPECT_EQ(ErrorName(Code::kPermissionDenied), "AUTHORIZATION_ERROR");
  EXPECT_EQ(ErrorName(Code::kNotFound), "NOT_FOUND");
  EXPECT_EQ(ErrorName(Code::kConflict), "CONFLICT");
  EXPECT_EQ(ErrorName(Code::kFailedPrecondition), "CONFLICT");
  EXPECT_EQ(ErrorName(Code::kPayloadTooLarge), "PAYLOAD_TOO_LARGE");
  EXPECT_EQ(ErrorName(Code::kResourceExhausted), "RATE_LIMIT_EXCEEDED");
  EXPECT_EQ(ErrorName(Code::kUnavailable), "SERVICE_UNAVAILABLE");
  EXPECT_EQ(ErrorName(Code::kInternal), "INTERNAL_ERROR");
}

Result<int> Parse(std::string_view s) {
  if (s.empty()) return InvalidArgument("empty");
  return static_cast<int>(s.size());
}

Result<std::unique_ptr<std::string>> MoveOnly(bool ok) {
  if (!ok) return NotFound("none");
  return std::make_unique<std::string>("moved");
}

int calls = 0;
Result<int> Counted(int v) {
  ++calls;
  return v;
}

// Twice in one scope (unique hidden names), into a declaration and an existing variable.
Result<int> Sum(std::string_view a, std::string_view b) {
  OUTPOST_ASSIGN_OR_RETURN(int x, Parse(a));
  int y = 0;
  OUTPOST_ASSIGN_OR_RETURN(y, Parse(b));
  return x + y;
}

Status Describe(bool ok, std::string& out) {
  OUTPOST_ASSIGN_OR_RETURN(std::unique_ptr<std::string> p, MoveOnly(ok));
  out = *p;
  return Status::Ok();
}

TEST(AssignOrReturn, AssignsTheValueOrReturnsTheStatus) {
  Result<int> both = Sum("ab", "cde");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(*both, 5);
  Result<int> first_bad = Sum("", "cde");
  EXPECT_EQ(first_bad.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(first_bad.status().message(), "empty");
  EXPECT_EQ(Sum("ab", "").status().code(), Code::kInvalidArgument);
}

TEST(AssignOrReturn, WorksInAStatusFunctionWithMoveOnlyValues) {
  std::string out;
  EXPECT_TRUE(Describe(true, out).ok());
  EXPECT_EQ(out, "moved");
  out.clear();
  Status st = Describe(false, out);
  EXPECT_EQ(st.code(), Code::kNotFound);
  EXPECT_TRUE(out.empty());
}

TEST(AssignOrReturn, EvaluatesTheExpressionOnce) {
  auto f = []() -> Result<int> {
    OUTPOST_ASSIGN_OR_RETURN(const int& v, Counted(7));
    return v;
  };
  calls = 0;
  EXPECT_EQ(*f(), 7);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace outpost
