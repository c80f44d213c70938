#include "common/json_util.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>

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

TEST(Json, DeepNestingIsRejectedWithoutExhaustingTheStack) {
  std::string deep(1'000'000, '[');
  auto v = ParseJson(deep, 32);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(), "JSON nested deeper than 32 levels");
}

TEST(Json, BoundedParseCountsEveryMemberElementAndScalar) {
  EXPECT_EQ(CountJsonValues(boost::json::parse(R"({"a":[1,2,{"b":null}],"c":"x"})"), 100), 7u);
  EXPECT_TRUE(ParseJsonBounded(R"([1,2,3])", 32, 4).ok());
  auto over = ParseJsonBounded(R"([1,2,3,4])", 32, 4);
  ASSERT_EQ(over.status().code(), Code::kInvalidArgument);
  EXPECT_NE(over.status().message().find("more than 4 values"), std::string::npos);
  EXPECT_EQ(ParseJsonBounded("[[[[1]]]]", 3, 100).status().code(), Code::kInvalidArgument);
  // Counting stops early: a huge document costs no more than the limit.
  std::string wide = "[0";
  for (int i = 0; i < 100'000; ++i) wide += ",0";
  wide += "]";
  EXPECT_LE(CountJsonValues(boost::json::parse(wide), 10), 11u);
}

TEST(Json, DoublesAreWrittenInPlainDecimalNeverInExponentForm) {
  boost::json::object o{{"freeGb", 1536.5}, {"small", 0.0001}, {"whole", 3.0},
                        {"big", 1e21},      {"neg", -2.25},    {"n", 7},
                        {"s", "1E5"},       {"inf", HUGE_VAL}, {"a", boost::json::array{0.5, 1}}};
  const std::string text = ToJson(o);
  EXPECT_EQ(text, R"({"freeGb":1536.5,"small":0.0001,"whole":3.0,"big":1000000000000000000000.0,)"
                  R"("neg":-2.25,"n":7,"s":"1E5","inf":null,"a":[0.5,1]})");
  // Each number reads back as the same double.
  auto back = ParseJson(text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->at("small").as_double(), 0.0001);
  EXPECT_EQ(back->at("whole").as_double(), 3.0);
  EXPECT_EQ(back->at("big").as_double(), 1e21);
  // Without a double the document is Boost.JSON's own serialization.
  boost::json::object plain{{"k", "v"}, {"n", 1}};
  EXPECT_EQ(ToJson(plain), boost::json::serialize(plain));
}

TEST(Status, InvalidListsEveryField) {
  Status st = Status::Invalid({{"agent", "bad"}, {"task", "worse"}});
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  ASSERT_TRUE(st.details().contains("errors"));
  EXPECT_EQ(st.details().at("errors").as_array().size(), 2u);
}

}  // namespace
}  // namespace outpost
