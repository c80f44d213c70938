#include "core/agent_secrets.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/json_util.h"
#include "core/dispatch_request.h"
#include "wire/dispatch_request_json.h"

namespace outpost {
namespace {

using Env = std::map<std::string, std::string>;

// A config-defined agent that needs MY_API_KEY, and a store with MY_TOKEN and GITHUB_TOKEN.
class DispatchSecretsTest : public ::testing::Test {
 protected:
  using Run = ::outpost::Run;
  DispatchSecretsTest() {
    AgentOptions keyed;
    keyed.name = "keyed";
    keyed.command = {"/bin/sh", "-c", "{task}"};
    keyed.models = {"m1"};
    keyed.required_secrets = {"MY_API_KEY"};
    opts_.agents["keyed"] = keyed;
    opts_.secrets_dir = "/srv/secrets";
  }
  Result<Run> Parse(std::string_view body, const SecretStore* store) {
    auto v = ParseJson(body);
    EXPECT_TRUE(v.ok()) << body;
    AgentRegistry agents(opts_);
    return ValidateDispatchRequest(wire::DecodeDispatchRequest(*v), agents, opts_, store);
  }
  static std::vector<FieldError> Errors(const Status& st) {
    std::vector<FieldError> out;
    if (!st.details().contains("errors")) return out;
    for (const auto& e : st.details().at("errors").as_array()) {
      out.push_back(
          {std::string(e.at("path").as_string()), std::string(e.at("message").as_string())});
    }
    return out;
  }
  Options opts_ = DefaultOptions();
  EnvSecretStore store_{
      {{"OUTPOST_SECRET_MY_TOKEN", "tok-value-1"}, {"OUTPOST_SECRET_GITHUB_TOKEN", "gh-value-1"}}};
};

TEST_F(DispatchSecretsTest, MissingRequiredSecretIsRefusedNamingIt) {
  auto r = Parse(R"({"agent":"keyed","task":"t"})", &store_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  auto errors = Errors(r.status());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "agent");
  EXPECT_EQ(errors[0].message,
            "agent keyed needs secret MY_API_KEY, which is not configured "
            "(OUTPOST_SECRET_MY_API_KEY or /srv/secrets/MY_API_KEY)");
  EXPECT_EQ(Parse(R"({"agent":"keyed","task":"t"})", nullptr).status().code(),
            Code::kInvalidArgument);
}

TEST_F(DispatchSecretsTest, RequiredSecretInTheStoreOrTheAgentEnvIsAccepted) {
  EnvSecretStore with_key(Env{{"OUTPOST_SECRET_MY_API_KEY", "k-value"}});
  auto r = Parse(R"({"agent":"keyed","task":"t"})", &with_key);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  opts_.agents["keyed"].env["MY_API_KEY"] = "from-config";
  EXPECT_TRUE(Parse(R"({"agent":"keyed","task":"t"})", nullptr).ok());
}

TEST_F(DispatchSecretsTest, AdditionalSecretsInTheStoreAreAccepted) {
  auto r =
      Parse(R"({"agent":"shell","task":"t","additionalSecrets":["MY_TOKEN","MY_TOKEN"]})", &store_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->additional_secrets, std::vector<std::string>{"MY_TOKEN"});
}

TEST_F(DispatchSecretsTest, ProtectedUnknownAndMalformedNamesAreRefusedByField) {
  auto r = Parse(
      R"({"agent":"shell","task":"t","additionalSecrets":["GITHUB_TOKEN","ABSENT","bad-name"]})",
      &store_);
  ASSERT_FALSE(r.ok());
  auto errors = Errors(r.status());
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].path, "additionalSecrets[0]");
  EXPECT_NE(errors[0].message.find("GITHUB_TOKEN is protected"), std::string::npos);
  EXPECT_EQ(errors[1].path, "additionalSecrets[1]");
  EXPECT_EQ(errors[1].message, "secret ABSENT is not configured on this server");
  EXPECT_EQ(errors[2].path, "additionalSecrets[2]");
  for (const char* name :
       {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
        "AWS_DEFAULT_REGION", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_API_KEY",
        "GEMINI_API_KEY", "DEEPSEEK_API_KEY", "XAI_API_KEY", "GITHUB_TOKEN"}) {
    EXPECT_TRUE(IsProtectedSecretName(name)) << name;
  }
  EXPECT_FALSE(IsProtectedSecretName("MY_TOKEN"));
}

TEST_F(DispatchSecretsTest, InjectionPutsValuesInEnvAndRedactNeverArgv) {
  EnvSecretStore store(
      {{"OUTPOST_SECRET_MY_API_KEY", "api-value"}, {"OUTPOST_SECRET_MY_TOKEN", "tok-value"}});
  Run run;
  run.agent = "keyed";
  run.additional_secrets = {"MY_TOKEN", "GONE"};
  RunSpec spec;
  spec.argv = {"/bin/sh", "-c", "t"};
  auto missing = InjectSecrets(&opts_.agents["keyed"], run, &store, spec);
  EXPECT_EQ(missing, std::vector<std::string>{"GONE"});
  EXPECT_EQ(spec.env.at("MY_API_KEY"), "api-value");
  EXPECT_EQ(spec.env.at("MY_TOKEN"), "tok-value");
  EXPECT_EQ(spec.redact, (std::vector<std::string>{"api-value", "tok-value"}));
  EXPECT_EQ(spec.secrets, (std::vector<std::string>{"MY_API_KEY", "MY_TOKEN"}));
  EXPECT_EQ(spec.argv, (std::vector<std::string>{"/bin/sh", "-c", "t"}));
}

}  // namespace
}  // namespace outpost
