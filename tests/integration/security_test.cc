// The security audit's findings (/work/shared/reviews/security-audit.md), each demonstrated
// against a real `outpost serve`: a test per finding, named after it.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>

#include "src/workspace/test_auth_server.h"
#include "tests/integration/server_fixture.h"

namespace outpost::testing {
namespace {
namespace json = boost::json;

using workspace::testing::AuthRecordingServer;

constexpr char kGithubToken[] = "ghp_F1operatorTOKEN0123456789abcdefghij";

// F1: a tenant names a repo on a host it controls, which answers 401 to ask for credentials.
// Before the fix git handed it "x-access-token:<GITHUB_TOKEN>" (over plain http, too).
TEST(Security, F1_GithubTokenNeverReachesARepoOnAnotherHost) {
  AuthRecordingServer attacker;
  const std::string dir = MakeTempDir();
  auto server = ServerProcess::Start(dir, {{"OUTPOST_SECRET_GITHUB_TOKEN", kGithubToken}});
  const std::string port = std::to_string(attacker.port());
  for (const std::string& repo :
       {"http://127.0.0.1:" + port + "/x/y.git", "http://localhost:" + port + "/x/z.git"}) {
    const std::string id = server->Dispatch(
        json::serialize(json::object{{"agent", "shell"}, {"task", "true"}, {"repo", repo}}));
    ASSERT_FALSE(id.empty()) << repo;
    json::object run = server->WaitTerminal(id);
    EXPECT_EQ(Str(run, "status"), "FAILED") << repo;
    EXPECT_EQ(Str(run, "reason"), "repo_error") << repo;
  }
  ASSERT_GE(attacker.seen().size(), 2u);  // the clones did ask it
  EXPECT_EQ(attacker.authorizations(), "");
  server.reset();
  KillRunsUnder(dir);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace outpost::testing
