#include "wire/dispatch_request_json.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace outpost::wire {
namespace {

namespace json = boost::json;

std::vector<std::string> Paths(const DispatchRequest& r) {
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.error.path);
  return out;
}

TEST(DecodeDispatchRequest, EveryFieldIsDecodedAsSent) {
  DispatchRequest r = DecodeDispatchRequest(json::parse(R"({"agent":"shell","task":"t",
      "modelId":"m","repo":"o/r","branch":"b","context":"full","timeoutSeconds":60.0,
      "inactivityTimeoutSeconds":30,"workspaceMode":"ephemeral","network":"none",
      "idempotencyKey":"k","tags":{"b":"2","a":"1"},"resourceConstraints":{"maxMemoryMb":512},
      "additionalSecrets":["X"],"workspaceInitMode":"full","userId":null})"),
                                            "header-key");
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.agent, "shell");
  EXPECT_FALSE(r.agent_list.has_value());
  EXPECT_EQ(r.task, "t");
  EXPECT_EQ(r.timeout_seconds, 60);
  EXPECT_EQ(r.inactivity_timeout_seconds, 30);
  EXPECT_EQ(r.idempotency_header, "header-key");
  ASSERT_TRUE(r.tags.has_value());
  EXPECT_EQ(r.tags->front().first, "b");  // the body's order
  EXPECT_EQ(r.max_memory_mb, 512);
  EXPECT_FALSE(r.max_cpu_units.has_value());
  EXPECT_EQ(r.workspace_init_mode, "full");
  EXPECT_TRUE(r.user_id_given);  // given, even as null: refused by core
}

TEST(DecodeDispatchRequest, AbsentNullAndNotGivenAreAlike) {
  DispatchRequest r = DecodeDispatchRequest(json::parse(R"({"timeoutSeconds":null,"tags":null})"));
  EXPECT_TRUE(r.errors.empty());
  EXPECT_FALSE(r.timeout_seconds.has_value());  // the default applies (and the quota lowers it)
  EXPECT_FALSE(r.tags.has_value());
  EXPECT_FALSE(r.user_id_given);
}

TEST(DecodeDispatchRequest, WrongTypesAndUnknownFieldsAreListedInPlace) {
  DispatchRequest r = DecodeDispatchRequest(json::parse(R"({"extra":1,"agent":7,
      "timeoutSeconds":"60","tags":{"k":1,"ok":"v"},"resourceConstraints":{"gpu":1,
      "maxDiskGb":1.5},"additionalSecrets":["A",2]})"));
  EXPECT_EQ(Paths(r), (std::vector<std::string>{
                          "extra", "agent", "timeoutSeconds", "tags.k", "resourceConstraints.gpu",
                          "resourceConstraints.maxDiskGb", "additionalSecrets[1]"}));
  EXPECT_EQ(r.errors[1].error.message, "agent must be a string");
  EXPECT_EQ(r.errors[2].error.message, "timeoutSeconds must be an integer");
  EXPECT_EQ(r.errors[3].error.message, "tag values must be strings");
  EXPECT_EQ(r.errors[3].element, 1);
  EXPECT_EQ(r.errors[6].error.message,
            "secret names match ^[A-Z][A-Z0-9_]*$ (at most 128 characters)");
  // The wrong ones are kept in place (nullopt), so core names the others by their index.
  ASSERT_TRUE(r.additional_secrets.has_value());
  EXPECT_EQ(r.additional_secrets->size(), 2u);
  EXPECT_FALSE((*r.additional_secrets)[1].has_value());
}

TEST(DecodeDispatchRequest, AListOfAgentsIsAFanOut) {
  DispatchRequest r = DecodeDispatchRequest(json::parse(R"({"agent":["a",{},"b"]})"));
  ASSERT_TRUE(r.agent_list.has_value());
  EXPECT_EQ(r.agent_list->size(), 3u);
  EXPECT_EQ(Paths(r), (std::vector<std::string>{"agent[1]"}));
  EXPECT_EQ(r.errors[0].error.message, "agent names are strings");
}

TEST(DecodeDispatchRequest, IntegersBeyondIntSaturate) {
  DispatchRequest r =
      DecodeDispatchRequest(json::parse(R"({"timeoutSeconds":1e300,"inactivityTimeoutSeconds":
      18446744073709551615,"resourceConstraints":{"maxMemoryMb":-9999999999}})"));
  EXPECT_EQ(Paths(r), (std::vector<std::string>{"timeoutSeconds"}));  // 1e300: not whole int64
  EXPECT_EQ(r.inactivity_timeout_seconds, INT_MAX);
  EXPECT_EQ(r.max_memory_mb, INT_MIN);
}

TEST(DecodeDispatchRequest, ABodyThatIsNotAnObjectIsOneError) {
  DispatchRequest r = DecodeDispatchRequest(json::parse("[1]"));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].field, DispatchField::kBody);
  EXPECT_EQ(r.errors[0].error.message, "the request body must be a JSON object");
}

}  // namespace
}  // namespace outpost::wire
