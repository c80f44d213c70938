// The security audit's findings (/work/shared/reviews/security-audit.md), each demonstrated
// against a real `outpost serve`: a test per finding, named after it.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "src/workspace/test_auth_server.h"
#include "tests/integration/server_test.h"

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
  // Loopback clone targets are refused unless the operator allows them (F10): this test's
  // attacker listens on loopback, so they are allowed here.
  auto server =
      ServerProcess::Start(dir, {{"OUTPOST_SECRET_GITHUB_TOKEN", kGithubToken},
                                 {"OUTPOST_GIT_ALLOW_PRIVATE_HOSTS", "127.0.0.1,localhost"}});
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

// F10: a tenant names a repo on the host's own loopback (the API, a metadata proxy, any
// internal service). Before the fix the root-side clone sent it `GET /x/y.git/info/refs`.
TEST(Security, F10_ACloneNeverReachesALoopbackHostUnlessAllowed) {
  AuthRecordingServer internal;
  const std::string port = std::to_string(internal.port());
  const std::string dir = MakeTempDir();
  {
    auto server = ServerProcess::Start(dir);
    for (const std::string& repo :
         {"http://127.0.0.1:" + port + "/x/y.git", "http://localhost:" + port + "/x/z.git",
          "http://[::ffff:127.0.0.1]:" + port + "/x/w.git"}) {
      const std::string id = server->Dispatch(
          json::serialize(json::object{{"agent", "shell"}, {"task", "true"}, {"repo", repo}}));
      ASSERT_FALSE(id.empty()) << repo;
      json::object run = server->WaitTerminal(id);
      EXPECT_EQ(Str(run, "status"), "FAILED") << repo;
      EXPECT_EQ(Str(run, "reason"), "repo_error") << repo;
      EXPECT_NE(Str(run, "errorMessage").find("allow_private_hosts"), std::string::npos)
          << Str(run, "errorMessage");
    }
    EXPECT_EQ(internal.seen().size(), 0u);  // no request reached it
  }
  KillRunsUnder(dir);
  {
    // The operator's allowance: the name is resolved once and git is pinned to that address.
    auto server = ServerProcess::Start(dir, {{"OUTPOST_GIT_ALLOW_PRIVATE_HOSTS", "localhost"}});
    const std::string id = server->Dispatch(json::serialize(json::object{
        {"agent", "shell"}, {"task", "true"}, {"repo", "http://localhost:" + port + "/x/v.git"}}));
    ASSERT_FALSE(id.empty());
    json::object run = server->WaitTerminal(id);
    EXPECT_EQ(Str(run, "reason"), "repo_error");  // it is no git server
    ASSERT_GE(internal.seen().size(), 1u);        // but it was reached
  }
  KillRunsUnder(dir);
  std::filesystem::remove_all(dir);
}

// F4: open mode (no API keys) on loopback. A page on another site reaches it by DNS rebinding
// (its name now resolves to 127.0.0.1: the request carries its own Host and, same-origin, no
// preflight) or by a simple cross-site request. Before the fix both were served.
class F4Test : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    server_ = ServerProcess::Start(dir_);
    port_ = server_->address().substr(server_->address().rfind(':') + 1);
  }
  HttpResponse Send(const std::string& method, const std::string& path, const std::string& body,
                    const std::map<std::string, std::string>& headers) {
    return Http(server_->address(), method, path, body, headers);
  }
  std::size_t RunCount() {
    return server_->Get("/runs").Json().at("data").as_object().at("items").as_array().size();
  }
  // The error envelope's code; "" when the answer is no error envelope.
  static std::string ErrCode(const HttpResponse& r) {
    json::value v = r.Json();
    if (!v.is_object() || !v.as_object().contains("error")) return "";
    return Str(v.at("error").as_object(), "code");
  }

  std::string port_;
};

TEST_F(F4Test, F4_ARequestUnderARebindingNameIsRefused) {
  const std::string evil = "rebind.attacker.example:" + port_;
  HttpResponse r =
      Send("POST", "/dispatch", R"({"agent":"shell","task":"id"})",
           {{"Host", evil}, {"Origin", "http://" + evil}, {"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 421) << r.body;
  EXPECT_EQ(ErrCode(r), "MISDIRECTED_REQUEST") << r.body;
  HttpResponse list = Send("GET", "/runs", "", {{"Host", evil}});
  EXPECT_EQ(list.status, 421) << list.body;
  EXPECT_EQ(Send("GET", "/runs", "", {{"Host", "localhost:1"}}).status, 421);
  EXPECT_EQ(RunCount(), 0u);  // nothing was dispatched
}

TEST_F(F4Test, F4_AnotherSitesOriginIsRefused) {
  HttpResponse r = Send("POST", "/dispatch", R"({"agent":"shell","task":"id"})",
                        {{"Origin", "https://evil.example"}, {"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(ErrCode(r), "FORBIDDEN_ORIGIN") << r.body;
  EXPECT_EQ(RunCount(), 0u);
}

TEST_F(F4Test, F4_ASimpleCrossSitePostCannotCancel) {
  const std::string id = server_->Dispatch(R"({"agent":"shell","task":"sleep 60"})");
  ASSERT_FALSE(id.empty());
  // What a cross-site <form> or no-preflight fetch can send: no type, text/plain, a form.
  for (const char* type : {"", "text/plain", "application/x-www-form-urlencoded"}) {
    std::map<std::string, std::string> h;
    if (*type) h["Content-Type"] = type;
    HttpResponse r = Send("POST", "/runs/" + id + "/cancel", "", h);
    EXPECT_EQ(r.status, 415) << type << " " << r.body;
    EXPECT_EQ(ErrCode(r), "UNSUPPORTED_MEDIA_TYPE") << r.body;
  }
  EXPECT_NE(Str(server_->Run(id), "status"), "CANCELLED");
  EXPECT_EQ(server_->Post("/runs/" + id + "/cancel", "{}").status / 100, 2);
  EXPECT_EQ(Str(server_->WaitTerminal(id), "status"), "CANCELLED");
}

TEST_F(F4Test, F4_McpRefusesARebindingNameAndServesLocalhost) {
  const std::string init =
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",)"
      R"("capabilities":{},"clientInfo":{"name":"t","version":"1"}}})";
  auto post = [&](const std::string& host) {
    return Send("POST", "/mcp", init,
                {{"Host", host},
                 {"Origin", "http://" + host},
                 {"Content-Type", "application/json"},
                 {"Accept", "application/json, text/event-stream"}});
  };
  HttpResponse evil = post("evil.example.com");
  EXPECT_GE(evil.status, 400) << evil.body;
  EXPECT_LT(evil.status, 500) << evil.body;
  EXPECT_EQ(post("evil.example.com:" + port_).status, 421);
  EXPECT_EQ(post("localhost:" + port_).status, 200);
  EXPECT_EQ(post("127.0.0.1:" + port_).status, 200);
}

TEST_F(F4Test, F4_SameOriginRequestsAndTheCliStillWork) {
  const std::string self = "localhost:" + port_;
  HttpResponse r =
      Send("POST", "/dispatch", R"({"agent":"shell","task":"echo hi"})",
           {{"Host", self}, {"Origin", "http://" + self}, {"Content-Type", "application/json"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = Str(r.Json().at("data").as_object(), "runId");
  EXPECT_EQ(Str(server_->WaitTerminal(id), "status"), "COMPLETED");
  const std::string cli =
      OutpostBin() + " status " + id + " --endpoint http://" + server_->address() + " 2>&1";
  FILE* p = ::popen(cli.c_str(), "r");
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0) << out;
  EXPECT_NE(out.find("COMPLETED"), std::string::npos) << out;
}

// With API keys nothing ambient authenticates a request, so a forged Host gains nothing and a
// proxy's Host is left alone.
TEST(Security, F4_WithKeysTheHostIsNotChecked) {
  const std::string dir = MakeTempDir();
  const std::string tenant = OutpostAdmin(dir, {"tenant", "create", "acme"});
  const std::string key = OutpostAdmin(dir, {"key", "create", "--tenant", tenant});
  auto server = ServerProcess::Start(dir);
  const std::map<std::string, std::string> forged{{"Host", "proxy.internal:1"},
                                                  {"Authorization", "Bearer " + key}};
  EXPECT_EQ(Http(server->address(), "GET", "/runs", "", forged).status, 200);
  EXPECT_EQ(Http(server->address(), "GET", "/runs", "", {{"Host", "evil.example"}}).status, 401);
  server.reset();
  std::filesystem::remove_all(dir);
}

// F10 residual, against a real server: a git:// clone of a name the operator allows is pinned
// to the address that was checked (the daemon is sent host=<address>, so git never resolved the
// name again), and an ssh clone is refused outright while no [git] ssh_known_hosts is set (F9
// item 3: before the fix it ran ssh with root's keys). Before the fix the daemon got
// host=localhost and ssh ran.
TEST(Security, F10_AGitDaemonCloneIsPinnedAndSshNeedsKnownHosts) {
  workspace::testing::GitDaemonRecorder daemon;
  const std::string port = std::to_string(daemon.port());
  const std::string dir = MakeTempDir();
  auto server = ServerProcess::Start(dir, {{"OUTPOST_GIT_ALLOW_PRIVATE_HOSTS", "localhost"}});
  auto run = [&](const std::string& repo) {
    const std::string id = server->Dispatch(
        json::serialize(json::object{{"agent", "shell"}, {"task", "true"}, {"repo", repo}}));
    EXPECT_FALSE(id.empty()) << repo;
    return id.empty() ? json::object{} : server->WaitTerminal(id);
  };
  json::object r = run("git://localhost:" + port + "/x/y.git");
  EXPECT_EQ(Str(r, "reason"), "repo_error");  // it hangs up: no git daemon
  std::vector<std::string> seen = daemon.requests();
  ASSERT_EQ(seen.size(), 1u) << Str(r, "errorMessage");
  EXPECT_NE(seen[0].find("host=127.0.0.1:" + port), std::string::npos) << seen[0];
  EXPECT_EQ(seen[0].find("localhost"), std::string::npos) << seen[0];
  for (const std::string& repo :
       {"ssh://git@localhost:" + port + "/x/y.git", std::string("git@localhost:x/y.git")}) {
    r = run(repo);
    EXPECT_EQ(Str(r, "reason"), "repo_error") << repo;
    EXPECT_NE(Str(r, "errorMessage").find("ssh_known_hosts"), std::string::npos)
        << Str(r, "errorMessage");
  }
  EXPECT_EQ(daemon.requests().size(), 1u);  // ssh never connected
  server.reset();
  KillRunsUnder(dir);
  std::filesystem::remove_all(dir);
}

// F2: tenant A's repository is mirrored on this replica (<data>/repos/<tenant>/<sha256 of its
// URL>).
// Tenant B's agent, in its own run, points its checkout's git metadata at that mirror by each
// trick git follows; the root-side collection after the run must not read it. Before the fix
// the `.git` symlink alone shipped A's whole history as B's changes.bundle.
class F2Test : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    repos_ = MakeTempDir();
    const std::string git = "git -c user.name=t -c user.email=t@e ";
    victim_ = repos_ + "/victim";
    Sh("git init -q -b trunk " + victim_ + " && cd " + victim_ +
       " && echo TOP-SECRET-F2 > secret.txt && git add secret.txt && " + git +
       "commit -q -m secret");
    victim_tip_ = Sh("git -C " + victim_ + " rev-parse HEAD");
    pub_ = repos_ + "/pub";
    Sh("git init -q -b trunk " + pub_ + " && cd " + pub_ +
       " && echo hello > README.md && git add README.md && " + git + "commit -q -m init");
    server_ = ServerProcess::Start(
        dir_, {{"OUTPOST_ALLOW_LOCAL_REPOS", "1"}, {"OUTPOST_LOCAL_REPO_ROOTS", repos_}});
    // Tenant A's run: its mirror now exists.
    const std::string a = Dispatch(victim_, "true");
    ASSERT_EQ(Str(server_->WaitTerminal(a), "status"), "COMPLETED");
    // The mirror's path under <data>/repos: its tenant's directory (F9), then the sha.
    mirror_sha_ = "default/" + Sh("printf %s " + victim_ + " | sha256sum | cut -c1-64");
    ASSERT_TRUE(std::filesystem::exists(dir_ + "/repos/" + mirror_sha_ + "/HEAD"));
  }
  void TearDown() override {
    ServerTest::TearDown();
    std::filesystem::remove_all(repos_);
  }
  std::string Dispatch(const std::string& repo, const std::string& task) {
    return server_->Dispatch(json::serialize(
        json::object{{"agent", "shell"}, {"task", task}, {"repo", repo}, {"timeoutSeconds", 60}}));
  }
  // Tenant B's run with `task` (in the sandbox, in its checkout): nothing of A's comes out.
  void ExpectNothingOfTheVictims(const std::string& task) {
    const std::string id = Dispatch(pub_, task);
    ASSERT_FALSE(id.empty()) << task;
    json::object run = server_->WaitTerminal(id);
    EXPECT_EQ(Str(run, "status"), "COMPLETED") << task << "\n" << json::serialize(run);
    if (const auto* changes = run.if_contains("changes"); changes && changes->is_object()) {
      EXPECT_NE(Str(changes->as_object(), "afterSha"), victim_tip_) << task;
    }
    const std::string run_dir = dir_ + "/runs/" + id;
    EXPECT_EQ(ReadAll(run_dir + "/diff.patch").find("TOP-SECRET-F2"), std::string::npos) << task;
    if (std::filesystem::exists(run_dir + "/changes.bundle")) {
      EXPECT_EQ(
          Sh("git bundle list-heads " + run_dir + "/changes.bundle || true").find(victim_tip_),
          std::string::npos)
          << task;
      // Unbundled beside B's own history (the bundle's prerequisites): no object of A's.
      const std::string out = run_dir + "/unbundled";
      Sh("git clone -q --bare " + pub_ + " " + out + " && git -C " + out + " bundle unbundle " +
         run_dir + "/changes.bundle >/dev/null 2>&1 || true");
      EXPECT_EQ(Sh("git -C " + out + " cat-file -e " + victim_tip_ + " && echo LEAKED || true"), "")
          << task;
    }
  }

  std::string repos_, victim_, victim_tip_, pub_, mirror_sha_;
};

// F9 item 1: with --allow-local-repos, tenant B names tenant A's mirror (its name is the
// sha256 of A's repo) or any path root can read. Before the fix B's run cloned it and saw A's
// history. Now a local repo must resolve (links and all) under an operator-listed root, and
// never into the data dir.
TEST_F(F2Test, F9_ALocalRepoOutsideTheRootsOrInTheDataDirIsRefused) {
  const std::string outside = MakeTempDir();
  Sh("git init -q -b trunk " + outside + "/r && cd " + outside +
     "/r && echo x > x && git add x && git -c user.name=t -c user.email=t@e commit -q -m x");
  std::filesystem::create_directory_symlink(dir_ + "/repos/" + mirror_sha_,
                                            repos_ + "/link-to-mirror");
  std::filesystem::create_directory_symlink(outside + "/r", repos_ + "/link-outside");
  for (const std::string& repo :
       {dir_ + "/repos/" + mirror_sha_, "file://" + dir_ + "/repos/" + mirror_sha_, outside + "/r",
        repos_ + "/link-to-mirror", repos_ + "/link-outside", repos_ + "/missing",
        std::string("/etc")}) {
    HttpResponse r = server_->Post(
        "/dispatch",
        json::serialize(json::object{
            {"agent", "shell"}, {"task", "git log --oneline | head"}, {"repo", repo}}));
    EXPECT_EQ(r.status, 400) << repo << ": " << r.body;
    EXPECT_NE(r.body.find("local repository root"), std::string::npos) << r.body;
  }
  // One inside works (the control), and so does tenant A's own path (through the root).
  const std::string id = Dispatch(pub_, "git log --oneline | head");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(Str(server_->WaitTerminal(id), "status"), "COMPLETED");
  std::filesystem::remove_all(outside);
}

// F9 item 1: --allow-local-repos without a root would allow every path: serve refuses to start.
TEST(Security, F9_AllowLocalReposWithoutARootRefusesToStart) {
  const std::string dir = MakeTempDir();
  const std::string out = Sh("env -u OUTPOST_LOCAL_REPO_ROOTS timeout 20 " + OutpostBin() +
                             " serve --allow-local-repos --listen 127.0.0.1:0 --data-dir " + dir +
                             " 2>&1 || echo rc=$?");
  EXPECT_NE(out.find("local_repo_roots"), std::string::npos) << out;
  EXPECT_EQ(out.find("listening on"), std::string::npos) << out;
  EXPECT_NE(out.find("rc="), std::string::npos) << out;     // it failed
  EXPECT_EQ(out.find("rc=124"), std::string::npos) << out;  // it did not keep serving
  std::filesystem::remove_all(dir);
}

// F9 item 2: two tenants with API keys; A has its own GitHub token ([git.tenants]). B can
// neither request A's token secret into its sandbox (additionalSecrets) nor be served A's
// mirror: each tenant's clones of one repository go through a mirror of its own. Before the fix
// B's dispatch got A_GITHUB_TOKEN in its environment and both runs shared <data>/repos/<sha>.
TEST(Security, F9_TenantsGetTheirOwnMirrorAndNeverAnothersGitToken) {
  const std::string dir = MakeTempDir(), roots = MakeTempDir();
  Sh("git init -q -b trunk " + roots + "/r && cd " + roots +
     "/r && echo x > x && git add x && git -c user.name=t -c user.email=t@e commit -q -m x");
  auto trim = [](std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  };
  std::map<std::string, std::string> tenant, key;
  for (const std::string name : {"a", "b"}) {
    tenant[name] =
        trim(RunOutpostSh("admin tenant create " + name + " --create --data-dir " + dir).out);
    key[name] = trim(RunOutpostSh("admin key create --tenant " + tenant[name] +
                                  " --scopes dispatch,status --data-dir " + dir)
                         .out);
    ASSERT_TRUE(key[name].starts_with("otp_")) << key[name];
  }
  std::ofstream(dir + "/outpost.toml") << "[git.tenants.\"" << tenant["a"]
                                       << "\".hosts.\"github.com\"]\n"
                                          "token_secret = \"A_GITHUB_TOKEN\"\n";
  auto server =
      ServerProcess::Start(dir,
                           {{"OUTPOST_SECRET_A_GITHUB_TOKEN", "ghp_F9tenantAtoken0123456789"},
                            {"OUTPOST_ALLOW_LOCAL_REPOS", "1"},
                            {"OUTPOST_LOCAL_REPO_ROOTS", roots}},
                           {"--config", dir + "/outpost.toml"});
  auto dispatch = [&](const std::string& who, json::object body) {
    body["agent"] = "shell";
    body["timeoutSeconds"] = 60;
    return Http(server->address(), "POST", "/dispatch", json::serialize(body),
                {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + key[who]}});
  };
  auto wait = [&](const std::string& who, const std::string& id) {
    std::string status;
    EXPECT_TRUE(WaitFor(
        [&] {
          HttpResponse r = Http(server->address(), "GET", "/runs/" + id, "",
                                {{"Authorization", "Bearer " + key[who]}});
          status = r.status == 200 ? Str(r.Json().at("data").as_object(), "status") : "";
          return status == "COMPLETED" || status == "FAILED" || status == "CANCELLED";
        },
        std::chrono::seconds(60)));
    return status;
  };
  HttpResponse stolen =
      dispatch("b", {{"task", "env"}, {"additionalSecrets", json::array{"A_GITHUB_TOKEN"}}});
  EXPECT_EQ(stolen.status, 400) << stolen.body;
  EXPECT_NE(stolen.body.find("protected"), std::string::npos) << stolen.body;
  for (const std::string who : {"a", "b"}) {
    HttpResponse d = dispatch(who, {{"task", "true"}, {"repo", roots + "/r"}});
    ASSERT_EQ(d.status, 201) << d.body;
    EXPECT_EQ(wait(who, Str(d.Json().at("data").as_object(), "runId")), "COMPLETED") << who;
  }
  const std::string sha = Sh("printf %s " + roots + "/r | sha256sum | cut -c1-64");
  EXPECT_TRUE(std::filesystem::exists(dir + "/repos/" + tenant["a"] + "/" + sha + "/HEAD"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/repos/" + tenant["b"] + "/" + sha + "/HEAD"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/repos/" + sha));
  server.reset();
  KillRunsUnder(dir);
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(roots);
}

// The checkout is <data>/runs/<id>/workspace on the host: relative links from there reach
// <data>/repos without knowing the data dir.
TEST_F(F2Test, F2_GitAsASymlinkToAnotherTenantsMirror) {
  ExpectNothingOfTheVictims("rm -rf .git && ln -s ../../../repos/" + mirror_sha_ + " .git");
}

TEST_F(F2Test, F2_GitdirFileToAnotherTenantsMirror) {
  ExpectNothingOfTheVictims("rm -rf .git && echo 'gitdir: ../../../repos/" + mirror_sha_ +
                            "' > .git");
}

TEST_F(F2Test, F2_AlternatesToAnotherTenantsMirrorAndAForgedHead) {
  ExpectNothingOfTheVictims("echo ../../../../../repos/" + mirror_sha_ +
                            "/objects >> .git/objects/info/alternates && echo " + victim_tip_ +
                            " > .git/HEAD");
}

TEST_F(F2Test, F2_CommondirToAnotherTenantsMirror) {
  ExpectNothingOfTheVictims("echo ../../../../repos/" + mirror_sha_ +
                            " > .git/commondir && rm -rf .git/refs/heads .git/packed-refs && "
                            "mkdir .git/refs/heads");
}

TEST_F(F2Test, F2_RefsAndPackedRefsAsLinksIntoAnotherTenantsMirror) {
  ExpectNothingOfTheVictims("echo ../../../../../repos/" + mirror_sha_ +
                            "/objects >> .git/objects/info/alternates && rm -rf .git/refs/heads "
                            "&& ln -s ../../../../../repos/" +
                            mirror_sha_ +
                            "/refs/heads .git/refs/heads && rm -f .git/packed-refs && "
                            "ln -s ../../../../repos/" +
                            mirror_sha_ + "/packed-refs .git/packed-refs");
}

TEST_F(F2Test, F2_PackedRefsNamingTheVictimsTip) {
  ExpectNothingOfTheVictims("echo ../../../../../repos/" + mirror_sha_ +
                            "/objects >> .git/objects/info/alternates && rm -f "
                            ".git/refs/heads/trunk && echo '" +
                            victim_tip_ + " refs/heads/trunk' > .git/packed-refs");
}

// F7: the agent commits the run's secret and then its removal, writes it only into a commit
// message, or only into a file name it then deletes. diff.patch (before → after) shows none of
// it; before the fix changes.bundle (every commit) shipped them and `redacted` was false.
TEST(Security, F7_SecretsOnlyInTheHistoryKeepTheBundleOut) {
  const std::string dir = MakeTempDir();
  const std::string repos = MakeTempDir();
  const std::string origin = repos + "/origin";
  Sh("git init -q -b trunk " + origin + " && cd " + origin +
     " && echo hello > README.md && git add README.md && "
     "git -c user.name=t -c user.email=t@e commit -q -m init");
  auto server = ServerProcess::Start(dir, {{"OUTPOST_ALLOW_LOCAL_REPOS", "1"},
                                           {"OUTPOST_LOCAL_REPO_ROOTS", repos},
                                           {"OUTPOST_SECRET_MYKEY", "s3cr3tvalue"}});
  const std::string git = "git -c user.name=t -c user.email=t@e ";
  for (const std::string& task :
       {"echo $MYKEY>k; git add k; " + git + "commit -qm a; git rm -q k; " + git + "commit -qm b",
        "echo x>other; git add other; " + git + "commit -qm \"key $MYKEY\"",
        "mkdir d; echo x>d/$MYKEY; git add d; " + git + "commit -qm a; git rm -rq d; echo y>o; " +
            "git add o; " + git + "commit -qm b"}) {
    const std::string id =
        server->Dispatch(json::serialize(json::object{{"agent", "shell"},
                                                      {"task", task},
                                                      {"repo", origin},
                                                      {"additionalSecrets", json::array{"MYKEY"}},
                                                      {"timeoutSeconds", 60}}));
    ASSERT_FALSE(id.empty()) << task;
    json::object run = server->WaitTerminal(id);
    ASSERT_EQ(Str(run, "status"), "COMPLETED") << task << "\n" << json::serialize(run);
    const auto* changes = run.if_contains("changes");
    ASSERT_TRUE(changes != nullptr && changes->is_object()) << task;
    EXPECT_EQ(Str(changes->as_object(), "kind"), "committed") << task;
    const auto* redacted = changes->as_object().if_contains("redacted");
    EXPECT_TRUE(redacted != nullptr && redacted->is_bool() && redacted->as_bool()) << task;
    const std::string run_dir = dir + "/runs/" + id;
    EXPECT_FALSE(std::filesystem::exists(run_dir + "/changes.bundle")) << task;
    EXPECT_EQ(ReadAll(run_dir + "/diff.patch").find("s3cr3tvalue"), std::string::npos) << task;
    EXPECT_NE(ReadAll(run_dir + "/changes.json").find("\"redaction\""), std::string::npos) << task;
  }
  server.reset();
  KillRunsUnder(dir);
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(repos);
}

// F7, the other side: a clean history keeps its bundle although the run has a secret, and a
// tag named after the secret (or an annotated tag saying it) is not in the bundle, which
// carries our HEAD only.
TEST(Security, F7_ATagNamedAfterTheSecretIsNotShippedAndACleanBundleIsKept) {
  const std::string dir = MakeTempDir();
  const std::string repos = MakeTempDir();
  const std::string origin = repos + "/origin";
  Sh("git init -q -b trunk " + origin + " && cd " + origin +
     " && echo hello > README.md && git add README.md && "
     "git -c user.name=t -c user.email=t@e commit -q -m init");
  auto server = ServerProcess::Start(dir, {{"OUTPOST_ALLOW_LOCAL_REPOS", "1"},
                                           {"OUTPOST_LOCAL_REPO_ROOTS", repos},
                                           {"OUTPOST_SECRET_MYKEY", "s3cr3tvalue"}});
  const std::string git = "git -c user.name=t -c user.email=t@e ";
  const std::string id = server->Dispatch(json::serialize(json::object{
      {"agent", "shell"},
      {"task", "echo x>other; git add other; " + git + "commit -qm plain; git tag $MYKEY; " + git +
                   "tag -a -m $MYKEY annotated"},
      {"repo", origin},
      {"additionalSecrets", json::array{"MYKEY"}},
      {"timeoutSeconds", 60}}));
  ASSERT_FALSE(id.empty());
  json::object run = server->WaitTerminal(id);
  ASSERT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
  const auto* changes = run.if_contains("changes");
  ASSERT_TRUE(changes != nullptr && changes->is_object());
  EXPECT_EQ(Str(changes->as_object(), "kind"), "committed");
  const auto* redacted = changes->as_object().if_contains("redacted");
  EXPECT_TRUE(redacted != nullptr && redacted->is_bool() && !redacted->as_bool());
  const std::string bundle = dir + "/runs/" + id + "/changes.bundle";
  ASSERT_TRUE(std::filesystem::exists(bundle));
  const std::string out = repos + "/unbundled";
  const std::string text =
      Sh("git bundle list-heads " + bundle + " && git clone -q --bare " + origin + " " + out +
         " && git -C " + out + " fetch -q " + bundle + " HEAD:refs/got && git -C " + out +
         " for-each-ref && git -C " + out + " log -p --format=raw refs/got");
  EXPECT_NE(text.find("plain"), std::string::npos) << text;
  EXPECT_EQ(text.find("s3cr3tvalue"), std::string::npos) << text;
  server.reset();
  KillRunsUnder(dir);
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(repos);
}

}  // namespace
}  // namespace outpost::testing
