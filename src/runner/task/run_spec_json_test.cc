// RunSpecToJson / RunSpecFromJson (runner/runner.h): the body of the run channel's GET …/spec.
#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <functional>

#include "common/json_util.h"
#include "runner/runner.h"
#include "testing/status_matchers.h"

namespace outpost {
namespace {

namespace json = boost::json;
using ::outpost::testing::StatusIs;
using ::testing::HasSubstr;

RunSpec FullSpec() {
  RunSpec s;
  s.id = RunId("01JABCDEFGHJKMNPQRSTVWXYZ0");
  s.argv = {"/usr/bin/claude", "-p", "fix it"};
  s.env = {{"ANTHROPIC_API_KEY", "sk-secret"}, {"LANG", "C.UTF-8"}};
  s.secrets = {"ANTHROPIC_API_KEY"};
  s.redact = {"sk-secret"};
  s.agent_dirs = {"/opt/claude"};
  s.home_files = {{".claude/settings.json", "{}"}};
  s.parser = "claude";
  s.limits.timeout_seconds = 900;
  s.limits.inactivity_timeout_seconds = 120;
  s.limits.grace_seconds = 7;
  s.limits.memory_bytes = std::int64_t{3} << 30;
  s.limits.cpu_millicores = 1500;
  s.limits.disk_bytes = std::int64_t{20} << 30;
  s.limits.pids_max = 256;
  s.limits.max_output_bytes = 1 << 20;
  s.network = NetworkPolicy::kAllowlist;
  s.allow = {"api.anthropic.com:443"};
  RepoCheckout& r = s.repo.emplace();
  r.url = "https://github.com/o/r.git";
  r.branch = "main";
  r.pin = "01JGROUP";
  r.cache_dir = "/data/repos/t";
  r.git_token = "ghp_x";
  r.git_token_url = "https://github.com";
  r.allow_private_hosts = {"git.local"};
  r.ssh_known_hosts = "/etc/kh";
  r.local_repo_roots = {"/srv/repos"};
  r.data_dir = "/data";
  r.context_level = "standard";
  r.task_arg_index = 2;
  s.channel = ChannelAccess{"http://cp:8080", "tok.en"};
  return s;
}

json::object Json(const RunSpec& s) { return RunSpecToJson(s); }

TEST(RunSpecJson, EveryFieldRoundTrips) {
  const RunSpec in = FullSpec();
  Result<RunSpec> out = RunSpecFromJson(RunSpecToJson(in));
  ASSERT_OK(out);
  // Compared through the JSON form (every field is written) and field by field where it counts.
  EXPECT_EQ(ToJson(RunSpecToJson(*out)), ToJson(RunSpecToJson(in)));
  EXPECT_EQ(out->id, in.id);
  EXPECT_EQ(out->argv, in.argv);
  EXPECT_EQ(out->env, in.env);
  EXPECT_EQ(out->redact, in.redact);
  EXPECT_EQ(out->home_files, in.home_files);
  EXPECT_EQ(out->limits.memory_bytes, in.limits.memory_bytes);
  EXPECT_EQ(out->limits.inactivity_timeout_seconds, 120);
  EXPECT_EQ(out->limits.cpu_millicores, 1500);
  EXPECT_EQ(out->limits.disk_bytes, in.limits.disk_bytes);
  EXPECT_EQ(out->limits.pids_max, 256);
  EXPECT_EQ(out->limits.grace_seconds, 7);
  EXPECT_EQ(out->network, NetworkPolicy::kAllowlist);
  ASSERT_TRUE(out->repo.has_value());
  EXPECT_EQ(out->repo->git_token, "ghp_x");
  EXPECT_EQ(out->repo->task_arg_index, 2);
  EXPECT_EQ(out->repo->local_repo_roots, in.repo->local_repo_roots);
  ASSERT_TRUE(out->channel.has_value());
  EXPECT_EQ(out->channel->token, "tok.en");
}

TEST(RunSpecJson, NullablesRoundTripAsNull) {
  RunSpec in;
  in.id = RunId("01JABCDEFGHJKMNPQRSTVWXYZ0");
  in.argv = {"sh", "-c", "true"};
  in.limits.inactivity_timeout_seconds.reset();
  json::object o = RunSpecToJson(in);
  EXPECT_TRUE(o.at("repo").is_null());
  EXPECT_TRUE(o.at("channel").is_null());
  EXPECT_TRUE(o.at("limits").as_object().at("memory_bytes").is_null());
  Result<RunSpec> out = RunSpecFromJson(o);
  ASSERT_OK(out);
  EXPECT_FALSE(out->repo.has_value());
  EXPECT_FALSE(out->channel.has_value());
  EXPECT_FALSE(out->limits.memory_bytes.has_value());
  EXPECT_EQ(ToJson(RunSpecToJson(*out)), ToJson(o));
}

TEST(RunSpecJson, RefusesUnknownFieldsNamingThem) {
  json::object o = Json(FullSpec());
  o["surprise"] = 1;
  EXPECT_THAT(RunSpecFromJson(o), StatusIs(Code::kInvalidArgument, HasSubstr("surprise")));
  json::object nested = Json(FullSpec());
  nested["limits"].as_object()["swap_bytes"] = 1;
  EXPECT_THAT(RunSpecFromJson(nested),
              StatusIs(Code::kInvalidArgument, HasSubstr("limits.swap_bytes: unknown field")));
}

TEST(RunSpecJson, RefusesMissingFieldsNamingThem) {
  for (const char* key : {"id", "argv", "env", "limits", "network", "repo", "channel"}) {
    json::object o = Json(FullSpec());
    o.erase(key);
    EXPECT_THAT(RunSpecFromJson(o),
                StatusIs(Code::kInvalidArgument, HasSubstr(std::string(key) + ": missing")))
        << key;
  }
  json::object o = Json(FullSpec());
  o["repo"].as_object().erase("git_token");
  EXPECT_THAT(RunSpecFromJson(o),
              StatusIs(Code::kInvalidArgument, HasSubstr("repo.git_token: missing")));
}

TEST(RunSpecJson, RefusesMistypedFieldsNamingThem) {
  struct Case {
    std::function<void(json::object&)> mutate;
    std::string expected;
  } cases[] = {
      {[](json::object& o) { o["argv"] = "sh"; }, "argv: must be an array of strings"},
      {[](json::object& o) {
         o["argv"] = json::array{"sh", 1};
       },
       "argv: must be an array"},
      {[](json::object& o) { o["env"].as_object()["X"] = 1; }, "env.X: must be a string"},
      {[](json::object& o) { o["limits"].as_object()["memory_bytes"] = "3G"; },
       "limits.memory_bytes: must be an integer or null"},
      {[](json::object& o) { o["limits"].as_object()["timeout_seconds"] = nullptr; },
       "limits.timeout_seconds: must be an integer"},
      {[](json::object& o) { o["limits"].as_object()["pids_max"] = std::int64_t{1} << 40; },
       "limits.pids_max: out of range"},
      {[](json::object& o) { o["network"] = "internet"; }, "network: must be none, allowlist"},
      {[](json::object& o) { o["repo"] = "https://x"; }, "repo: must be an object or null"},
      {[](json::object& o) { o["repo"].as_object()["branch"] = 3; },
       "repo.branch: must be a string or null"},
      {[](json::object& o) { o["channel"].as_object()["token"] = true; },
       "channel.token: must be a string"},
      {[](json::object& o) { o["id"] = ""; }, "id: must not be empty"},
      {[](json::object& o) { o["argv"] = json::array{}; }, "argv: must not be empty"},
  };
  for (const Case& c : cases) {
    json::object o = Json(FullSpec());
    c.mutate(o);
    EXPECT_THAT(RunSpecFromJson(o), StatusIs(Code::kInvalidArgument, HasSubstr(c.expected)))
        << c.expected;
  }
}

}  // namespace
}  // namespace outpost
