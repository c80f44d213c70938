#include "common/json_util.h"

#include <gtest/gtest.h>

namespace outpost {
namespace {

TEST(Json, ParsesObjects) {
  auto v = ParseJson(R"({"a":1,"b":"x","c":true})");
  ASSERT_TRUE(v.ok());
  const auto& o = v->get_object();
  EXPECT_EQ(GetInt(o, "a"), 1);
  EXPECT_EQ(GetString(o, "b"), "x");
  EXPECT_EQ(GetBool(o, "c"), true);
  EXPECT_EQ(GetString(o, "a"), std::nullopt);  // wrong type is absent, not coerced
}

TEST(Json, MalformedInputIsInvalidArgument) {
  auto v = ParseJson("{\"a\":");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kInvalidArgument);
}

TEST(Json, NestingBeyondTheLimitIsRejected) {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  auto v = ParseJson(deep, 32);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(ParseJson(deep, 200).ok());
}

TEST(Status, InvalidListsEveryField) {
  Status st = Status::Invalid({{"agent", "bad"}, {"task", "worse"}});
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  ASSERT_TRUE(st.details().contains("errors"));
  EXPECT_EQ(st.details().at("errors").as_array().size(), 2u);
}

}  // namespace
}  // namespace outpost
