// Promote against a real git server: git-http-backend behind HTTPS with basic auth
// (workspace/test_git_https_server.h), runs whose changes were collected by the real
// workspace::Collect and stored in a real local ArtifactStore, a real SQLite RunStore and audit
// log, and a loopback stand-in of GitHub's pulls endpoint that checks what it is sent.
#include "core/promoter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <memory>

#include "agents/agent.h"
#include "artifacts/local/local_artifact_store.h"
#include "artifacts/local/url_signer.h"
#include "common/ids.h"
#include "core/auditor.h"
#include "store/run_doc.h"
#include "store/sqlite/sqlite_audit_log.h"
#include "store/sqlite/sqlite_run_store.h"
#include "testing/fake_http_server.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "workspace/collect.h"
#include "workspace/test_git.h"
#include "workspace/test_git_https_server.h"

namespace outpost {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;
using outpost::testing::FakeHttpServer;
using outpost::testing::FakeRequest;
using outpost::testing::FakeResponse;
using outpost::testing::StatusIs;
using workspace::testing::Sh;

constexpr const char* kToken = "ghp_promoteTestToken0123456789abcdef";

class PromoterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path();
    // Every git our code starts is logged by a wrapper first in PATH (GitEnv passes PATH on).
    fs::create_directories(root_ + "/bin");
    workspace::testing::Write(root_ + "/bin/git", "#!/bin/sh\nprintf '%s\\n' \"$*\" >> " + root_ +
                                                      "/git-argv.log\nexec /usr/bin/git \"$@\"\n");
    fs::permissions(root_ + "/bin/git", fs::perms::owner_all);
    old_path_ = ::getenv("PATH") ? ::getenv("PATH") : "/usr/bin:/bin";
    ::setenv("PATH", (root_ + "/bin:" + old_path_).c_str(), 1);

    Sh("git init -q -b trunk " + root_ + "/src && cd " + root_ +
       "/src && echo hello > README.md && git add README.md && git commit -q -m init");
    bare_ = root_ + "/srv/acme/widgets.git";
    Sh("mkdir -p " + root_ + "/srv/acme && git clone -q --bare " + root_ + "/src " + bare_);
    before_ = Sh("git -C " + bare_ + " rev-parse trunk");
    git_ = std::make_unique<workspace::testing::GitHttpsServer>(root_ + "/srv", kToken,
                                                                root_ + "/ca.pem");
    github_ = std::make_unique<FakeHttpServer>([this](const FakeRequest& r) { return Pulls(r); });

    opts_ = DefaultOptions();
    opts_.data_dir = root_ + "/data";
    opts_.git_hosts = {{git_->host(), "GIT_TOKEN"}};
    opts_.git_allow_private_hosts = {git_->host()};
    opts_.git_push_ca_file = git_->ca_file();
    opts_.github_api_url = github_->endpoint() + "/api";
    secrets_ = std::make_unique<EnvSecretStore>(
        std::map<std::string, std::string>{{"OUTPOST_SECRET_GIT_TOKEN", kToken}});
    auto store = SqliteRunStore::Open(root_ + "/runs.db");
    ASSERT_OK(store);
    store_ = std::move(*store);
    audit_ = std::make_unique<SqliteAuditLog>(store_->connection());
    auditor_ = std::make_unique<Auditor>(*audit_, clock_);
    agents_ = std::make_unique<AgentRegistry>(opts_);
    service_ = std::make_unique<RunService>(*store_, *agents_, clock_, opts_, nullptr);
    auto artifacts =
        artifacts::LocalArtifactStore::Open(root_ + "/artifacts", artifacts::UrlSigner("k"),
                                            [] { return "http://unused"; }, {.durable = false});
    ASSERT_OK(artifacts);
    artifacts_ = std::move(*artifacts);
    promoter_ = std::make_unique<Promoter>(*service_, *store_, *artifacts_, clock_, opts_,
                                           secrets_.get(), auditor_.get());
  }
  void TearDown() override { ::setenv("PATH", old_path_.c_str(), 1); }

  FakeResponse Pulls(const FakeRequest& r) {
    std::lock_guard lock(mu_);
    seen_.push_back(r);
    return reply_;
  }
  void ReplyWith(int status, std::string body) {
    std::lock_guard lock(mu_);
    reply_ = {status, std::move(body), {{"Content-Type", "application/json"}}};
  }

  // A completed run of `tenant` whose agent ran `script` in a clone of the repository; its
  // changes collected by workspace::Collect and stored as the uploader stores them.
  outpost::Run MakeRun(const std::string& script, const std::string& tenant = "default") {
    const std::string n = std::to_string(++runs_);
    const std::string ws = root_ + "/ws" + n, run_dir = root_ + "/rd" + n;
    Sh("git clone -q " + bare_ + " " + ws + " && cd " + ws + " && " + script);
    fs::create_directories(run_dir);
    workspace::SpawnGitExec git;
    auto cs = workspace::Collect(git, {ws, before_, run_dir, "", {}});
    EXPECT_OK(cs);
    outpost::Run r;
    r.id = RunId(NewUlid(clock_.Now()));
    r.tenant = tenant;
    r.status = RunStatus::kCompleted;
    r.phase = RunPhase::kDone;
    r.reason = std::string(reason::kSucceeded);
    r.agent = "shell";
    r.model_id = "m";
    r.task = "Add the feature file\n\nin detail";
    r.repo = git_->url("acme/widgets.git");
    r.created_at = clock_.Now();
    r.ended_at = clock_.Now();
    r.changes = static_cast<const Changes&>(*cs);
    r.artifacts_state = ArtifactsState::kStored;
    for (const char* name : {"diff.patch", "changes.bundle"}) {
      if (fs::exists(run_dir + "/" + name)) {
        EXPECT_OK(artifacts_->PutFile("dispatches/" + r.id.str() + "/" + name, run_dir + "/" + name,
                                      "application/octet-stream"));
      }
    }
    EXPECT_OK(store_->Create(r));
    return r;
  }

  std::string Remote(const std::string& args) { return Sh("git -C " + bare_ + " " + args); }
  std::string Branches() { return Remote("for-each-ref --format='%(refname)' refs/heads"); }
  RequestContext Ctx(const std::string& tenant = "default") {
    RequestContext c;
    c.tenant = tenant;
    c.key_id = "key1";
    return c;
  }
  PromoteRequest Pr(std::optional<std::string> title = std::nullopt) {
    PromoteRequest p;
    p.mode = "pr";
    p.title = std::move(title);
    return p;
  }
  static std::vector<std::string> Fields(const Status& st) {
    std::vector<std::string> out;
    if (const auto* e = st.details().if_contains("errors")) {
      for (const auto& f : e->as_array()) out.emplace_back(f.at("path").as_string());
    }
    return out;
  }
  // Neither the run record, nor any git's argv, nor argv at any moment the server saw.
  void ExpectTokenNowhere(const RunId& id) {
    auto stored = store_->Get(id);
    ASSERT_OK(stored);
    EXPECT_EQ(json::serialize(RunToDoc(*stored)).find(kToken), std::string::npos);
    const std::string argv = workspace::testing::Read(root_ + "/git-argv.log");
    EXPECT_NE(argv.find("push"), std::string::npos) << argv;
    EXPECT_EQ(argv.find(kToken), std::string::npos);
    EXPECT_FALSE(git_->token_in_argv());
  }

  outpost::testing::TempDir tmp_{"promoter"};
  std::string root_, bare_, before_, old_path_;
  SimulatedClock clock_;
  Options opts_;
  std::unique_ptr<workspace::testing::GitHttpsServer> git_;
  std::unique_ptr<FakeHttpServer> github_;
  std::mutex mu_;
  std::vector<FakeRequest> seen_;  // guarded by mu_
  FakeResponse reply_{201,
                      R"({"number":7,"html_url":"https://github.example/acme/widgets/pull/7"})",
                      {{"Content-Type", "application/json"}}};
  std::unique_ptr<SecretStore> secrets_;
  std::unique_ptr<SqliteRunStore> store_;
  std::unique_ptr<SqliteAuditLog> audit_;
  std::unique_ptr<Auditor> auditor_;
  std::unique_ptr<AgentRegistry> agents_;
  std::unique_ptr<RunService> service_;
  std::unique_ptr<artifacts::ArtifactStore> artifacts_;
  std::unique_ptr<Promoter> promoter_;
  int runs_ = 0;
};

TEST_F(PromoterTest, UncommittedWorkIsPushedAsOneCommitOnTheDefaultBranch) {
  outpost::Run run = MakeRun("echo more >> README.md && echo new > added.txt");
  ASSERT_EQ(run.changes->kind, "uncommitted");
  auto out = promoter_->Promote(run.id.str(), {}, Ctx());
  ASSERT_OK(out);
  EXPECT_FALSE(out->replayed);
  const std::string branch = "outpost/shell/" + run.id.str();
  ASSERT_TRUE(out->run.promotion);
  EXPECT_EQ(out->run.promotion->branch, branch);
  EXPECT_EQ(out->run.promotion->by, "key1");
  EXPECT_EQ(Remote("rev-parse refs/heads/" + branch), out->run.promotion->commit);
  EXPECT_EQ(Remote("rev-parse " + branch + "^"), before_);
  EXPECT_EQ(Remote("show " + branch + ":added.txt"), "new");
  EXPECT_EQ(Remote("log -1 --format=%s " + branch), "Add the feature file");
  EXPECT_EQ(Remote("log -1 --format=%an " + branch), "Outpost shell");
  // Recorded on the run and in the audit log.
  auto stored = store_->Get(run.id);
  ASSERT_OK(stored);
  EXPECT_EQ(stored->promotion, out->run.promotion);
  AuditQuery q;
  q.action = std::string(audit_action::kPromote);
  auto page = audit_->List(q);
  ASSERT_OK(page);
  ASSERT_EQ(page->records.size(), 1u);
  EXPECT_EQ(page->records[0].resource, "run:" + run.id.str());
  EXPECT_EQ(page->records[0].outcome, "success");
  EXPECT_GT(git_->authorized_requests(), 0);
  ExpectTokenNowhere(run.id);
}

TEST_F(PromoterTest, CommittedWorkIsPushedWithTheAgentsCommits) {
  outpost::Run run = MakeRun(
      "echo feature > f.txt && git add f.txt && "
      "git -c user.name=a -c user.email=a@e commit -q -m 'agent commit'");
  ASSERT_EQ(run.changes->kind, "committed");
  PromoteRequest req;
  req.branch = "feature/from-agent";
  auto out = promoter_->Promote(run.id.str(), req, Ctx());
  ASSERT_OK(out);
  EXPECT_EQ(out->run.promotion->commit, *run.changes->after_sha);
  EXPECT_EQ(Remote("rev-parse refs/heads/feature/from-agent"), *run.changes->after_sha);
  EXPECT_EQ(Remote("log -1 --format=%s feature/from-agent"), "agent commit");
  ExpectTokenNowhere(run.id);
}

TEST_F(PromoterTest, WorkLeftUncommittedAfterCommitsIsOneMoreCommitOnTop) {
  outpost::Run run = MakeRun(
      "echo feature > f.txt && git add f.txt && "
      "git -c user.name=a -c user.email=a@e commit -q -m 'agent commit' && echo later > g.txt");
  ASSERT_EQ(run.changes->kind, "committed");
  auto out = promoter_->Promote(run.id.str(), {}, Ctx());
  ASSERT_OK(out);
  const std::string branch = out->run.promotion->branch;
  EXPECT_EQ(Remote("rev-parse " + branch + "^"), *run.changes->after_sha);
  EXPECT_EQ(Remote("show " + branch + ":g.txt"), "later");
}

TEST_F(PromoterTest, PromotingAgainIsAReplayAndAnotherBranchIsAConflict) {
  outpost::Run run = MakeRun("echo new > added.txt");
  auto first = promoter_->Promote(run.id.str(), {}, Ctx());
  ASSERT_OK(first);
  const int requests = git_->requests();
  auto again = promoter_->Promote(run.id.str(), {}, Ctx());
  ASSERT_OK(again);
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->run.promotion, first->run.promotion);
  EXPECT_EQ(git_->requests(), requests);  // nothing fetched or pushed
  PromoteRequest other;
  other.branch = "elsewhere";
  auto conflict = promoter_->Promote(run.id.str(), other, Ctx());
  EXPECT_THAT(conflict, StatusIs(Code::kConflict));
  EXPECT_EQ(conflict.status().details().at("promotion").at("branch").as_string(),
            first->run.promotion->branch);
  EXPECT_EQ(Branches().find("elsewhere"), std::string::npos);
}

TEST_F(PromoterTest, APushTheHookRefusesIsRefusedWithTheHooksMessage) {
  workspace::testing::Write(bare_ + "/hooks/pre-receive",
                            "#!/bin/sh\necho 'protected: pushes to this repository need review' "
                            ">&2\nexit 1\n");
  fs::permissions(bare_ + "/hooks/pre-receive", fs::perms::owner_all);
  outpost::Run run = MakeRun("echo new > added.txt");
  auto out = promoter_->Promote(run.id.str(), {}, Ctx());
  ASSERT_THAT(out, StatusIs(Code::kFailedPrecondition));
  EXPECT_TRUE(out.status().details().at("remoteRefused").as_bool());
  EXPECT_THAT(out.status().message(),
              ::testing::HasSubstr("protected: pushes to this repository need review"));
  EXPECT_EQ(out.status().message().find(kToken), std::string::npos);
  EXPECT_EQ(Branches(), "refs/heads/trunk");
  auto stored = store_->Get(run.id);
  ASSERT_OK(stored);
  EXPECT_FALSE(stored->promotion);
  ExpectTokenNowhere(run.id);
}

TEST_F(PromoterTest, PullRequestIsOpenedWithGitHubsDocumentedRequest) {
  outpost::Run run = MakeRun("echo new > added.txt");
  auto out = promoter_->Promote(run.id.str(), Pr("Add the feature"), Ctx());
  ASSERT_OK(out);
  EXPECT_EQ(out->run.promotion->pr_number, 7);
  EXPECT_EQ(out->run.promotion->pr_url, "https://github.example/acme/widgets/pull/7");
  EXPECT_EQ(out->run.promotion->base, "trunk");
  std::lock_guard lock(mu_);
  ASSERT_EQ(seen_.size(), 1u);
  const FakeRequest& r = seen_[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/api/repos/acme/widgets/pulls");
  EXPECT_EQ(r.headers.at("authorization"), std::string("Bearer ") + kToken);
  EXPECT_EQ(r.headers.at("accept"), "application/vnd.github+json");
  EXPECT_EQ(r.headers.at("x-github-api-version"), "2022-11-28");
  // The documented body: title, head, base (required strings), body (string), draft (bool).
  json::object body = json::parse(r.body).as_object();
  EXPECT_EQ(body.size(), 5u) << r.body;
  EXPECT_EQ(body.at("title").as_string(), "Add the feature");
  EXPECT_EQ(body.at("head").as_string(), "outpost/shell/" + run.id.str());
  EXPECT_EQ(body.at("base").as_string(), "trunk");
  EXPECT_TRUE(body.at("body").is_string());
  EXPECT_THAT(std::string(body.at("body").as_string()), ::testing::HasSubstr(run.id.str()));
  EXPECT_FALSE(body.at("draft").as_bool());
}

TEST_F(PromoterTest, GitHubRefusalsAre422sAndARetryOpensOnlyThePullRequest) {
  outpost::Run run = MakeRun("echo new > added.txt");
  ReplyWith(422, R"({"message":"Validation Failed","errors":[{"resource":"PullRequest",)"
                 R"("code":"custom","message":"A pull request already exists for acme:x."}],)"
                 R"("documentation_url":"https://docs.github.com/rest"})");
  auto exists = promoter_->Promote(run.id.str(), Pr(), Ctx());
  ASSERT_THAT(exists, StatusIs(Code::kFailedPrecondition));
  EXPECT_EQ(exists.status().details().at("httpStatus").as_int64(), 422);
  EXPECT_THAT(exists.status().message(), ::testing::HasSubstr("A pull request already exists"));
  // The branch was pushed and is recorded without a pull request.
  auto stored = store_->Get(run.id);
  ASSERT_OK(stored);
  ASSERT_TRUE(stored->promotion);
  EXPECT_EQ(stored->promotion->pr_number, 0);
  const std::string commit = stored->promotion->commit;
  for (int status : {403, 404}) {
    ReplyWith(status, R"({"message":")" + std::string(status == 403 ? "Forbidden" : "Not Found") +
                          R"(","documentation_url":"https://docs.github.com/rest"})");
    auto refused = promoter_->Promote(run.id.str(), Pr(), Ctx());
    ASSERT_THAT(refused, StatusIs(Code::kFailedPrecondition));
    EXPECT_EQ(refused.status().details().at("httpStatus").as_int64(), status);
    EXPECT_THAT(refused.status().message(),
                ::testing::HasSubstr(status == 403 ? "Forbidden" : "Not Found"));
  }
  ReplyWith(201, R"({"number":9,"html_url":"https://github.example/acme/widgets/pull/9"})");
  auto opened = promoter_->Promote(run.id.str(), Pr(), Ctx());
  ASSERT_OK(opened);
  EXPECT_EQ(opened->run.promotion->pr_number, 9);
  EXPECT_EQ(opened->run.promotion->commit, commit);  // the same commit: the push was a no-op
  auto replay = promoter_->Promote(run.id.str(), Pr(), Ctx());
  ASSERT_OK(replay);
  EXPECT_TRUE(replay->replayed);
  std::lock_guard lock(mu_);
  EXPECT_EQ(seen_.size(), 4u);
}

TEST_F(PromoterTest, UnknownAndOtherTenantsRunsAreNotFound) {
  outpost::Run run = MakeRun("echo new > added.txt", "01KF0000000000000000000000");
  EXPECT_THAT(promoter_->Promote(NewUlid(clock_.Now()), {}, Ctx()), StatusIs(Code::kNotFound));
  EXPECT_THAT(promoter_->Promote(run.id.str(), {}, Ctx()), StatusIs(Code::kNotFound));
  EXPECT_EQ(Branches(), "refs/heads/trunk");
}

TEST_F(PromoterTest, BadFieldsAreNamedAndNothingIsPushed) {
  outpost::Run run = MakeRun("echo new > added.txt");
  PromoteRequest bad_branch;
  bad_branch.branch = "bad..name";
  auto b = promoter_->Promote(run.id.str(), bad_branch, Ctx());
  ASSERT_THAT(b, StatusIs(Code::kInvalidArgument));
  EXPECT_EQ(Fields(b.status()), std::vector<std::string>{"branch"});
  auto t = promoter_->Promote(run.id.str(), Pr(std::string(257, 't')), Ctx());
  ASSERT_THAT(t, StatusIs(Code::kInvalidArgument));
  EXPECT_EQ(Fields(t.status()), std::vector<std::string>{"title"});
  PromoteRequest bad_mode;
  bad_mode.mode = "merge";
  auto m = promoter_->Promote(run.id.str(), bad_mode, Ctx());
  ASSERT_THAT(m, StatusIs(Code::kInvalidArgument));
  EXPECT_EQ(Fields(m.status()), std::vector<std::string>{"mode"});
  PromoteRequest no_base = Pr();
  no_base.base = "no-such-branch";
  auto nb = promoter_->Promote(run.id.str(), no_base, Ctx());
  ASSERT_THAT(nb, StatusIs(Code::kInvalidArgument));
  EXPECT_EQ(Fields(nb.status()), std::vector<std::string>{"base"});
  EXPECT_EQ(Branches(), "refs/heads/trunk");
  std::lock_guard lock(mu_);
  EXPECT_TRUE(seen_.empty());
}

TEST_F(PromoterTest, ARunWithoutARepositoryIsRefusedNamingRepo) {
  outpost::Run run = MakeRun("echo new > added.txt");
  run.id = RunId(NewUlid(clock_.Now()));
  run.repo.reset();
  ASSERT_OK(store_->Create(run));
  auto out = promoter_->Promote(run.id.str(), {}, Ctx());
  ASSERT_THAT(out, StatusIs(Code::kInvalidArgument));
  EXPECT_EQ(Fields(out.status()), std::vector<std::string>{"repo"});
}

TEST_F(PromoterTest, RunsWithNothingToPushAreConflicts) {
  outpost::Run none = MakeRun("true");
  ASSERT_EQ(none.changes->kind, "none");
  EXPECT_THAT(promoter_->Promote(none.id.str(), {}, Ctx()), StatusIs(Code::kConflict));
  outpost::Run failed = MakeRun("echo new > added.txt");
  failed.id = RunId(NewUlid(clock_.Now()));
  failed.status = RunStatus::kFailed;
  ASSERT_OK(store_->Create(failed));
  auto f = promoter_->Promote(failed.id.str(), {}, Ctx());
  ASSERT_THAT(f, StatusIs(Code::kConflict));
  EXPECT_EQ(f.status().details().at("currentStatus").as_string(), "FAILED");
  outpost::Run redacted = MakeRun("echo new > added.txt");
  redacted.id = RunId(NewUlid(clock_.Now()));
  redacted.changes->redacted = true;
  ASSERT_OK(store_->Create(redacted));
  auto r = promoter_->Promote(redacted.id.str(), {}, Ctx());
  ASSERT_THAT(r, StatusIs(Code::kConflict));
  EXPECT_TRUE(r.status().details().at("redacted").as_bool());
  EXPECT_EQ(Branches(), "refs/heads/trunk");
}

}  // namespace
}  // namespace outpost
