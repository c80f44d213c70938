#include "core/dispatch_request.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/json_util.h"
#include "store/run_store.h"
#include "wire/dispatch_request_json.h"

namespace outpost {
namespace {

class DispatchRequestTest : public ::testing::Test {
 protected:
  using Run = ::outpost::Run;  // gtest's Test::Run() would hide it
  Result<Run> Parse(std::string_view body, std::optional<std::string> header = std::nullopt) {
    auto v = ParseJson(body);
    EXPECT_TRUE(v.ok()) << body;
    return ValidateDispatchRequest(wire::DecodeDispatchRequest(*v, header), agents_, opts_);
  }
  // The paths listed in details.errors[].
  static std::vector<std::string> Paths(const Status& st) {
    std::vector<std::string> out;
    if (!st.details().contains("errors")) return out;
    for (const auto& e : st.details().at("errors").as_array()) {
      out.emplace_back(e.as_object().at("path").as_string());
    }
    return out;
  }
  Options opts_ = DefaultOptions();
  AgentRegistry agents_{opts_};
};

TEST_F(DispatchRequestTest, MinimalShellDispatchGetsDefaults) {
  auto r = Parse(R"({"agent":"shell","task":"echo hi"})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->agent, "shell");
  EXPECT_EQ(r->task, "echo hi");
  EXPECT_EQ(r->model_id, "shell");
  EXPECT_EQ(r->timeout_seconds, 600);
  EXPECT_EQ(r->context, "standard");
  EXPECT_EQ(r->request_hash.size(), 64u);
}

TEST_F(DispatchRequestTest, EveryFieldIsAcceptedWhenValid) {
  auto r = Parse(R"({"agent":"shell","task":"t","modelId":"shell","repo":"rgsuarez/outpost",
    "branch":"main","context":"minimal","timeoutSeconds":120,"inactivityTimeoutSeconds":30,
    "workspaceMode":"ephemeral","idempotencyKey":"k1","tags":{"team":"a"},
    "resourceConstraints":{"maxMemoryMb":512,"maxCpuUnits":1024,"maxDiskGb":2},"network":"none",
    "additionalSecrets":[]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->repo, "rgsuarez/outpost");
  EXPECT_EQ(r->branch, "main");
  EXPECT_EQ(r->timeout_seconds, 120);
  EXPECT_EQ(r->inactivity_timeout_seconds, 30);
  EXPECT_EQ(r->tags.at("team"), "a");
  EXPECT_EQ(r->resources.max_memory_mb, 512);
  EXPECT_EQ(r->idempotency_key, "k1");
}

TEST_F(DispatchRequestTest, UnknownFieldsAreRejectedByName) {
  auto r = Parse(R"({"agent":"shell","task":"t","contextLevel":"full","expires_at":1})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Paths(r.status()), (std::vector<std::string>{"contextLevel", "expires_at"}));
}

// The first error's message for `path`.
std::string MessageFor(const Status& st, std::string_view path) {
  for (const auto& e : st.details().at("errors").as_array()) {
    if (e.at("path").as_string() == path) return std::string(e.at("message").as_string());
  }
  return "";
}

TEST_F(DispatchRequestTest, OriginalUserIdIsRefusedSayingWhatToUseInstead) {
  auto r = Parse(R"({"agent":"shell","task":"t","userId":"u-1"})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(Paths(r.status()), (std::vector<std::string>{"userId"}));
  const std::string why = MessageFor(r.status(), "userId");
  EXPECT_NE(why.find("tenant of the API key"), std::string::npos) << why;
  EXPECT_NE(why.find("tags.userId"), std::string::npos) << why;
}

TEST_F(DispatchRequestTest, OriginalWorkspaceInitModeMapsFullAndNoneAndRefusesMinimal) {
  auto full = Parse(R"({"agent":"shell","task":"t","repo":"o/r","workspaceInitMode":"full"})");
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(full->repo, "o/r");
  // Same run as without it: an idempotent replay from an old client matches a new one's.
  EXPECT_EQ(full->request_hash,
            Parse(R"({"agent":"shell","task":"t","repo":"o/r"})")->request_hash);
  auto none = Parse(R"({"agent":"shell","task":"t","workspaceInitMode":"none"})");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->repo);
  auto none_repo = Parse(R"({"agent":"shell","task":"t","repo":"o/r","workspaceInitMode":"none"})");
  ASSERT_FALSE(none_repo.ok());
  EXPECT_NE(MessageFor(none_repo.status(), "workspaceInitMode").find("leave out repo"),
            std::string::npos);
  auto minimal =
      Parse(R"({"agent":"shell","task":"t","repo":"o/r","workspaceInitMode":"minimal"})");
  ASSERT_FALSE(minimal.ok());
  EXPECT_NE(MessageFor(minimal.status(), "workspaceInitMode").find("sparse checkout"),
            std::string::npos);
  auto bad = Parse(R"({"agent":"shell","task":"t","workspaceInitMode":"shallow"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(Paths(bad.status()), (std::vector<std::string>{"workspaceInitMode"}));
}

TEST_F(DispatchRequestTest, ModelTierAliasesAreTheAgentsConfiguredModelsInOrder) {
  for (auto [name, models] : std::map<std::string, std::vector<std::string>>{
           {"trio", {"big", "mid", "small"}}, {"duo", {"one", "two"}}}) {
    opts_.agents[name].name = name;
    opts_.agents[name].command = {"/bin/sh", "-c", "{task}"};
    opts_.agents[name].models = models;
  }
  AgentRegistry agents(opts_);
  auto model = [&](std::string_view agent, std::string_view tier) {
    auto v = boost::json::parse(R"({"agent":")" + std::string(agent) +
                                R"(","task":"t","modelId":")" + std::string(tier) + R"("})");
    auto r = ValidateDispatchRequest(wire::DecodeDispatchRequest(v), agents, opts_);
    return r.ok() ? r->model_id : "error: " + r.status().ToString();
  };
  EXPECT_EQ(model("trio", "flagship"), "big");
  EXPECT_EQ(model("trio", "balanced"), "mid");
  EXPECT_EQ(model("trio", "fast"), "small");
  EXPECT_EQ(model("duo", "flagship"), "one");
  EXPECT_EQ(model("duo", "balanced"), "two");
  EXPECT_EQ(model("duo", "fast"), "two");
  EXPECT_EQ(model("shell", "fast"), "shell");
  // A fan-out: each agent gets its own model of the tier.
  auto fan = ValidateDispatchRequests(
      wire::DecodeDispatchRequest(
          boost::json::parse(R"({"agent":["trio","duo"],"task":"t","modelId":"fast"})")),
      agents, opts_);
  ASSERT_TRUE(fan.ok()) << fan.status().ToString();
  ASSERT_EQ(fan->runs.size(), 2u);
  EXPECT_EQ(fan->runs[0].model_id, "small");
  EXPECT_EQ(fan->runs[1].model_id, "two");
  // A configured model named like a tier is that model.
  opts_.agents["duo"].models = {"one", "fast"};
  AgentRegistry named(opts_);
  auto v = boost::json::parse(R"({"agent":"duo","task":"t","modelId":"fast"})");
  EXPECT_EQ(ValidateDispatchRequest(wire::DecodeDispatchRequest(v), named, opts_)->model_id,
            "fast");
}

TEST_F(DispatchRequestTest, EveryBadFieldIsListed) {
  auto r = Parse(R"({"agent":7,"task":"","timeoutSeconds":0,"context":"huge","branch":"a..b",
    "repo":"not a repo","tags":{"k":1},"resourceConstraints":{"maxMemoryMb":"lots","gpu":1},
    "inactivityTimeoutSeconds":1.5})");
  ASSERT_FALSE(r.ok());
  auto paths = Paths(r.status());
  for (const char* p :
       {"agent", "task", "timeoutSeconds", "context", "branch", "repo", "tags.k",
        "resourceConstraints.maxMemoryMb", "resourceConstraints.gpu", "inactivityTimeoutSeconds"}) {
    EXPECT_NE(std::find(paths.begin(), paths.end(), p), paths.end()) << p;
  }
}

// The decoder's errors (types, unknown fields) and the validator's (values) come in one list, in
// the order it has always had: unknown fields first, then field by field, element by element.
TEST_F(DispatchRequestTest, TypeAndValueErrorsAreListedTogetherInFieldOrder) {
  auto r = Parse(R"({"extra":1,"agent":"shell","task":true,"tags":{"":1,"k":2},
    "resourceConstraints":{"gpu":1,"maxDiskGb":0,"maxMemoryMb":"x"},"userId":null,
    "additionalSecrets":["lower",3],"timeoutSeconds":0,"branch":"a..b"})");
  ASSERT_FALSE(r.ok());
  const std::string secret_name = "secret names match ^[A-Z][A-Z0-9_]*$ (at most 128 characters)";
  std::vector<std::pair<std::string, std::string>> expected = {
      {"extra", "unknown field"},
      {"task", "task must be a string"},
      {"branch", "branch is not a valid git branch name"},
      {"timeoutSeconds", "timeoutSeconds must be from 1 to 86400"},
      {"userId",
       "userId is not accepted: a run belongs to the tenant of the API key that dispatches it; "
       "leave userId out (to label runs by user, use tags, e.g. tags.userId)"},
      {"tags.", "tag keys are 1 to 128 characters of letters, digits, _ . - /"},  // one error
      {"tags.k", "tag values must be strings"},
      {"resourceConstraints.gpu", "unknown field"},
      {"resourceConstraints.maxMemoryMb", "resourceConstraints.maxMemoryMb must be an integer"},
      {"resourceConstraints.maxDiskGb", "resourceConstraints.maxDiskGb must be from 1 to 2048"},
      {"additionalSecrets[0]", secret_name},
      {"additionalSecrets[1]", secret_name}};
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& e : r.status().details().at("errors").as_array()) {
    got.emplace_back(e.at("path").as_string(), e.at("message").as_string());
  }
  EXPECT_EQ(got, expected);
}

TEST_F(DispatchRequestTest, MissingRequiredFieldsAreNamed) {
  auto r = Parse("{}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(Paths(r.status()), (std::vector<std::string>{"agent", "task"}));
}

TEST_F(DispatchRequestTest, UnknownAgentNamesTheAvailableOnes) {
  auto r = Parse(R"({"agent":"nope","task":"t"})");
  ASSERT_FALSE(r.ok());
  const auto& e = r.status().details().at("errors").as_array()[0].as_object();
  EXPECT_EQ(e.at("path").as_string(), "agent");
  // Which coding agents are installed depends on the machine (`make run` installs claude, codex
  // and gemini); shell always is.
  std::string list;
  for (const auto& a : agents_.Available()) list += (list.empty() ? "" : ", ") + a;
  EXPECT_NE(list.find("shell"), std::string::npos) << list;
  EXPECT_EQ(std::string(e.at("message").as_string()),
            "unknown agent 'nope'; available agents: " + list);
}

TEST_F(DispatchRequestTest, ConfiguredAgentWhoseCliIsMissingIsRefusedByName) {
  opts_.agents["claude"].command = {"outpost-no-such-claude", "{task}"};
  AgentRegistry agents(opts_);
  auto v = boost::json::parse(R"({"agent":"claude","task":"t"})");
  auto r = ValidateDispatchRequest(wire::DecodeDispatchRequest(v), agents, opts_);
  ASSERT_FALSE(r.ok());
  const auto& e = r.status().details().at("errors").as_array()[0].as_object();
  EXPECT_EQ(e.at("path").as_string(), "agent");
  EXPECT_NE(std::string(e.at("message").as_string()).find("agent 'claude' is not available"),
            std::string::npos);
}

TEST_F(DispatchRequestTest, TaskLengthLimitsAreInclusive) {
  std::string ok(kMaxTaskChars, 'x');
  EXPECT_TRUE(Parse(R"({"agent":"shell","task":")" + ok + "\"}").ok());
  auto r = Parse(R"({"agent":"shell","task":")" + ok + "x\"}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(Paths(r.status()), std::vector<std::string>{"task"});
}

TEST_F(DispatchRequestTest, TaskLengthCountsCharactersNotBytes) {
  std::string task;
  for (std::size_t i = 0; i < kMaxTaskChars; ++i) task += "\xc3\xa9";  // é, two bytes
  EXPECT_TRUE(Parse(R"({"agent":"shell","task":")" + task + "\"}").ok());
}

TEST_F(DispatchRequestTest, TimeoutRangeIsOneSecondToOneDay) {
  EXPECT_TRUE(Parse(R"({"agent":"shell","task":"t","timeoutSeconds":1})").ok());
  EXPECT_TRUE(Parse(R"({"agent":"shell","task":"t","timeoutSeconds":86400})").ok());
  EXPECT_FALSE(Parse(R"({"agent":"shell","task":"t","timeoutSeconds":86401})").ok());
  EXPECT_FALSE(Parse(R"({"agent":"shell","task":"t","timeoutSeconds":"60"})").ok());
}

// fuzz/dispatch_request_fuzzer found 1.2e57 cast to int64 (undefined behaviour).
TEST_F(DispatchRequestTest, HugeOrFractionalNumbersAreNotIntegers) {
  for (const char* n : {"1e300", "-1e300", "1.2e57", "9223372036854775808.0", "1.5"}) {
    auto r = Parse(std::string(R"({"agent":"shell","task":"t","timeoutSeconds":)") + n +
                   R"(,"resourceConstraints":{"maxMemoryMb":)" + n + "}}");
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(Paths(r.status()),
              (std::vector<std::string>{"timeoutSeconds", "resourceConstraints.maxMemoryMb"}))
        << n;
  }
  auto whole = Parse(R"({"agent":"shell","task":"t","timeoutSeconds":6e1})");
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(whole->timeout_seconds, 60);
}

TEST_F(DispatchRequestTest, InvalidModelListsTheValidOnes) {
  auto r = Parse(R"({"agent":"shell","task":"t","modelId":"gpt-9"})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(Paths(r.status()), std::vector<std::string>{"modelId"});
  std::string msg(
      r.status().details().at("errors").as_array()[0].as_object().at("message").as_string());
  EXPECT_NE(msg.find("valid: shell"), std::string::npos) << msg;
}

TEST_F(DispatchRequestTest, NonObjectBodyIsRejected) {
  for (const char* body : {"[]", "\"x\"", "3", "null"}) {
    auto r = Parse(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  }
}

TEST_F(DispatchRequestTest, IdempotencyHeaderMustAgreeWithBody) {
  auto r = Parse(R"({"agent":"shell","task":"t","idempotencyKey":"a"})", "b");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(Paths(r.status()), std::vector<std::string>{"idempotencyKey"});
  auto h = Parse(R"({"agent":"shell","task":"t"})", "b");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->idempotency_key, "b");
}

TEST_F(DispatchRequestTest, RequestHashIgnoresKeyOrderButNotContent) {
  auto a = Parse(R"({"agent":"shell","task":"t","tags":{"a":"1","b":"2"}})");
  auto b = Parse(R"({"tags":{"b":"2","a":"1"},"task":"t","agent":"shell"})");
  auto c = Parse(R"({"agent":"shell","task":"u","tags":{"a":"1","b":"2"}})");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->request_hash, b->request_hash);
  EXPECT_NE(a->request_hash, c->request_hash);
}

TEST_F(DispatchRequestTest, SecretsThatAreNotConfiguredAreRefused) {
  auto r = Parse(R"({"agent":"shell","task":"t","additionalSecrets":["NPM_TOKEN","bad-name"]})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(Paths(r.status()),
            (std::vector<std::string>{"additionalSecrets[0]", "additionalSecrets[1]"}));
}

TEST_F(DispatchRequestTest, NetworkPoliciesFollowTheOperatorsSettings) {
  auto allow = Parse(R"({"agent":"shell","task":"t","network":"allowlist"})");
  ASSERT_TRUE(allow.ok()) << allow.status().ToString();
  EXPECT_EQ(allow->network, NetworkPolicy::kAllowlist);
  auto host = Parse(R"({"agent":"shell","task":"t","network":"host"})");
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(Paths(host.status()), std::vector<std::string>{"network"});
  opts_.sandbox.allow_host_network = true;
  EXPECT_TRUE(Parse(R"({"agent":"shell","task":"t","network":"host"})").ok());
  opts_.runner = RunnerKind::kProcess;
  EXPECT_FALSE(Parse(R"({"agent":"shell","task":"t","network":"allowlist"})").ok());
}

TEST_F(DispatchRequestTest, AgentDefaultsFillMissingResourceConstraints) {
  opts_.agents["shell"].max_memory_mb = 256;
  opts_.agents["shell"].max_disk_gb = 4;
  AgentRegistry agents(opts_);
  auto v = ParseJson(R"({"agent":"shell","task":"t","resourceConstraints":{"maxDiskGb":2}})");
  auto r = ValidateDispatchRequest(wire::DecodeDispatchRequest(*v), agents, opts_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->resources.max_memory_mb, 256);
  EXPECT_EQ(r->resources.max_disk_gb, 2);  // the dispatch's own value wins
}

// Audit F6: before, a dispatch without resourceConstraints ran without memory, CPU or disk
// limits, and one could ask for 262144 MB, 65536 CPU units and 2048 GB.
TEST_F(DispatchRequestTest, F6_EveryRunGetsTheOperatorsDefaultLimits) {
  auto r = Parse(R"({"agent":"shell","task":"t"})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->resources.max_memory_mb, 4096);
  EXPECT_EQ(r->resources.max_cpu_units, 2048);
  EXPECT_EQ(r->resources.max_disk_gb, 10);
  opts_.run_limits.default_memory_mb = 1024;
  opts_.run_limits.default_disk_gb = 3;
  r = Parse(R"({"agent":"shell","task":"t","resourceConstraints":{"maxCpuUnits":512}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->resources.max_memory_mb, 1024);
  EXPECT_EQ(r->resources.max_cpu_units, 512);
  EXPECT_EQ(r->resources.max_disk_gb, 3);
}

TEST_F(DispatchRequestTest, F6_ADispatchAboveACeilingIsRefusedNamingTheFieldAndTheCeiling) {
  opts_.run_limits.ceiling_memory_mb = 8192;
  auto r = Parse(R"({"agent":"shell","task":"t","resourceConstraints":
      {"maxMemoryMb":8193,"maxCpuUnits":65536,"maxDiskGb":2048}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(Paths(r.status()), (std::vector<std::string>{"resourceConstraints.maxMemoryMb",
                                                         "resourceConstraints.maxCpuUnits",
                                                         "resourceConstraints.maxDiskGb"}));
  const auto& errors = r.status().details().at("errors").as_array();
  EXPECT_EQ(errors[0].as_object().at("message").as_string(),
            "resourceConstraints.maxMemoryMb 8193 is above this server's ceiling of 8192 "
            "([limits] ceiling_memory_mb)");
  EXPECT_NE(std::string(errors[2].as_object().at("message").as_string()).find("100"),
            std::string::npos);
  // At the ceiling is fine.
  EXPECT_TRUE(
      Parse(R"({"agent":"shell","task":"t","resourceConstraints":{"maxMemoryMb":8192}})").ok());
}

TEST_F(DispatchRequestTest, WithoutANetworkTheAgentsOwnPolicyApplies) {
  AgentOptions coder = opts_.agents["shell"];  // installed everywhere: /bin/sh
  coder.name = "coder";
  coder.network_allow = {"api.example.com:443"};
  opts_.agents["coder"] = coder;
  opts_.agents["quiet"] = opts_.agents["coder"];
  opts_.agents["quiet"].network = "none";
  AgentRegistry agents(opts_);
  auto parse = [&](std::string_view body) {
    return ValidateDispatchRequest(wire::DecodeDispatchRequest(*ParseJson(body)), agents, opts_);
  };
  EXPECT_EQ(parse(R"({"agent":"coder","task":"t"})")->network, NetworkPolicy::kAllowlist);
  EXPECT_EQ(parse(R"({"agent":"coder","task":"t","network":null})")->network,
            NetworkPolicy::kAllowlist);
  EXPECT_EQ(parse(R"({"agent":"coder","task":"t","network":"none"})")->network,
            NetworkPolicy::kNone);
  EXPECT_EQ(parse(R"({"agent":"quiet","task":"t"})")->network, NetworkPolicy::kNone);
  EXPECT_EQ(parse(R"({"agent":"shell","task":"t"})")->network, NetworkPolicy::kNone);
  opts_.runner = RunnerKind::kProcess;  // nothing is enforced there: the record stays "none"
  EXPECT_EQ(parse(R"({"agent":"coder","task":"t"})")->network, NetworkPolicy::kNone);
}

// Issue 18 item 11: maxCostUsd, a positive number up to the operator's maximum; absent, the
// operator's default.
TEST_F(DispatchRequestTest, MaxCostUsdIsAPositiveNumberUpToTheOperatorsMaximum) {
  auto none = Parse(R"({"agent":"shell","task":"t"})");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->max_cost_usd);  // no ceiling unless the operator sets a default

  auto given = Parse(R"({"agent":"shell","task":"t","maxCostUsd":0.25})");
  ASSERT_TRUE(given.ok()) << given.status().ToString();
  EXPECT_EQ(given->max_cost_usd, 0.25);
  EXPECT_NE(given->request_hash, none->request_hash);

  for (const char* bad : {"0", "-1", "\"1\"", "true"}) {
    auto r = Parse(std::string(R"({"agent":"shell","task":"t","maxCostUsd":)") + bad + "}");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(Paths(r.status()), std::vector<std::string>{"maxCostUsd"}) << bad;
  }

  opts_.max_cost_usd = 5;
  opts_.default_max_cost_usd = 1.5;
  auto over = Parse(R"({"agent":"shell","task":"t","maxCostUsd":5.01})");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(Paths(over.status()), std::vector<std::string>{"maxCostUsd"});
  const std::string message(over.status().details().at("errors").at(0).at("message").as_string());
  EXPECT_NE(message.find("at most $5 (the server's [limits] max_cost_usd)"), std::string::npos)
      << message;
  auto at_max = Parse(R"({"agent":"shell","task":"t","maxCostUsd":5})");
  ASSERT_TRUE(at_max.ok()) << at_max.status().ToString();
  EXPECT_EQ(at_max->max_cost_usd, 5);
  auto defaulted = Parse(R"({"agent":"shell","task":"t"})");
  ASSERT_TRUE(defaulted.ok()) << defaulted.status().ToString();
  EXPECT_EQ(defaulted->max_cost_usd, 1.5);
}

// Issue 23: `verify`, a check command run after the agent in its sandbox. A string of 1 to
// kMaxVerifyChars characters without NUL, only with a repo (it checks the run's checkout); part
// of the idempotency fingerprint; every run of a fan-out gets it.
TEST_F(DispatchRequestTest, VerifyIsABoundedCommandLineForARunWithARepo) {
  auto plain = Parse(R"({"agent":"shell","task":"t","repo":"o/r"})");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->verify, std::nullopt);
  auto ok = Parse(R"({"agent":"shell","task":"t","repo":"o/r","verify":"make test && ./check"})");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->verify, "make test && ./check");
  EXPECT_NE(ok->request_hash, plain->request_hash);
  auto null = Parse(R"({"agent":"shell","task":"t","repo":"o/r","verify":null})");
  ASSERT_TRUE(null.ok()) << null.status().ToString();
  EXPECT_EQ(null->verify, std::nullopt);
  EXPECT_EQ(null->request_hash, plain->request_hash);
  const std::string longest(kMaxVerifyChars, 'x');
  auto at_max = Parse(R"({"agent":"shell","task":"t","repo":"o/r","verify":")" + longest + "\"}");
  ASSERT_TRUE(at_max.ok()) << at_max.status().ToString();

  struct Case {
    std::string verify, message;
  } cases[] = {
      {R"("")", "1 to 4096 characters"},
      {"\"" + longest + "x\"", "1 to 4096 characters"},
      {R"("make\u0000test")", "NUL"},
      {"42", "must be a string"},
      {R"(["make","test"])", "must be a string"},
  };
  for (const Case& c : cases) {
    auto r = Parse(R"({"agent":"shell","task":"t","repo":"o/r","verify":)" + c.verify + "}");
    ASSERT_FALSE(r.ok()) << c.verify;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(Paths(r.status()), std::vector<std::string>{"verify"}) << c.verify;
    EXPECT_NE(r.status().details().at("errors").at(0).at("message").as_string().find(c.message),
              std::string::npos)
        << r.status().ToString();
  }
  // Without a repo there is nothing to check: refused, naming the field.
  auto no_repo = Parse(R"({"agent":"shell","task":"t","verify":"make test"})");
  ASSERT_FALSE(no_repo.ok());
  EXPECT_EQ(Paths(no_repo.status()), std::vector<std::string>{"verify"});
  EXPECT_NE(
      no_repo.status().details().at("errors").at(0).at("message").as_string().find("needs a repo"),
      std::string::npos);
  // A bad repo is the repo's error alone.
  auto bad_repo = Parse(R"({"agent":"shell","task":"t","repo":"not a repo","verify":"true"})");
  ASSERT_FALSE(bad_repo.ok());
  EXPECT_EQ(Paths(bad_repo.status()), std::vector<std::string>{"repo"});
}

TEST_F(DispatchRequestTest, EveryRunOfAFanOutGetsTheVerifyCommand) {
  for (const char* name : {"alpha", "beta"}) {
    opts_.agents[name].name = name;
    opts_.agents[name].command = {"/bin/sh", "-c", "{task}"};
    opts_.agents[name].models = {"m"};
  }
  AgentRegistry agents(opts_);
  auto fan = ValidateDispatchRequests(
      wire::DecodeDispatchRequest(boost::json::parse(
          R"({"agent":["alpha","beta"],"task":"t","repo":"o/r","verify":"make test"})")),
      agents, opts_);
  ASSERT_TRUE(fan.ok()) << fan.status().ToString();
  ASSERT_EQ(fan->runs.size(), 2u);
  for (const Run& r : fan->runs) EXPECT_EQ(r.verify, "make test") << r.agent;
  auto refused = ValidateDispatchRequests(
      wire::DecodeDispatchRequest(
          boost::json::parse(R"({"agent":["alpha","beta"],"task":"t","verify":"make test"})")),
      agents, opts_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(Paths(refused.status()), std::vector<std::string>{"verify"});
}

}  // namespace
}  // namespace outpost
