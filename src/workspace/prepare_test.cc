#include "workspace/prepare.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>

#include "common/files.h"
#include "workspace/test_auth_server.h"
#include "workspace/test_git.h"

namespace outpost::workspace {
namespace {

using testing::GitDaemonRecorder;
using testing::MakeRepo;
using testing::Read;
using testing::Sh;

// Records every command it runs, so tests can check what reached argv.
class RecordingExec : public GitExec {
 public:
  Result<GitOutput> Run(const GitCommand& cmd) override {
    for (const auto& a : cmd.argv) argv_ += a + " ";
    return inner_.Run(cmd);
  }
  const std::string& argv() const { return argv_; }

 private:
  SpawnGitExec inner_;
  std::string argv_;
};

// Sets an environment variable for the test's lifetime (PrepareTest runs git with this
// process's PATH).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class PrepareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::TempDir();
    origin_ = root_ + "/origin";
    first_sha_ = MakeRepo(origin_, "trunk");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  PrepareRequest Req(const std::string& ws, std::optional<std::string> branch = std::nullopt) {
    return {origin_,
            std::move(branch),
            root_ + "/repos",
            root_ + "/" + ws,
            std::nullopt,
            std::nullopt,
            {},
            ""};
  }

  // A fake `ssh` first in PATH that records its argv (one per line) and environment under
  // root_/ssh.argv and root_/ssh.env, and fails like an unreachable server.
  std::string FakeSsh() {
    const std::string bin = root_ + "/fake-bin";
    std::filesystem::create_directories(bin);
    EXPECT_TRUE(WriteFileAtomic(bin + "/ssh",
                                "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + root_ +
                                    "/ssh.argv\nenv > " + root_ +
                                    "/ssh.env\necho 'fake ssh: no server' >&2\nexit 255\n",
                                0755)
                    .ok());
    return bin;
  }
  std::vector<std::string> SshArgv() {
    std::vector<std::string> argv;
    std::istringstream in(Read(root_ + "/ssh.argv"));
    for (std::string line; std::getline(in, line);) argv.push_back(line);
    return argv;
  }
  static bool Has(const std::vector<std::string>& argv, const std::string& a) {
    return std::find(argv.begin(), argv.end(), a) != argv.end();
  }

  SpawnGitExec git_;
  std::string root_, origin_, first_sha_;
};

TEST_F(PrepareTest, DetectsTheDefaultBranchAndRecordsTheBeforeSha) {
  auto p = Prepare(git_, Req("ws"));
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->branch, "trunk");
  EXPECT_EQ(p->before_sha, first_sha_);
  EXPECT_TRUE(p->cache_created);
  EXPECT_EQ(p->cache_dir, CacheDirFor(root_ + "/repos", origin_));
  EXPECT_EQ(Sh("git -C " + root_ + "/ws rev-parse --abbrev-ref HEAD"), "trunk");
  EXPECT_EQ(Read(root_ + "/ws/README.md"), "hello\n");
}

TEST_F(PrepareTest, CacheIsCreatedOnceThenFetched) {
  ASSERT_TRUE(Prepare(git_, Req("ws1")).ok());
  Sh("cd " + origin_ + " && echo two > two.txt && git add two.txt && git commit -q -m two");
  const std::string second = Sh("git -C " + origin_ + " rev-parse HEAD");
  auto p = Prepare(git_, Req("ws2"));
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_FALSE(p->cache_created);
  EXPECT_EQ(p->before_sha, second);
  EXPECT_EQ(Sh("git -C " + p->cache_dir + " rev-parse refs/heads/trunk"), second);
  // The workspace is a copy: no object file is shared with the mirror.
  EXPECT_EQ(Sh("git -C " + root_ + "/ws2 config --get-all remote.origin.url"), origin_);
  EXPECT_FALSE(std::filesystem::exists(root_ + "/ws2/.git/objects/info/alternates"));
}

// A fan-out's runs start one after another (queued behind limits): every one must work on the
// commit the first one checked out, however the branch moves in between.
TEST_F(PrepareTest, RunsOfOnePinGetTheFirstOnesCommitWhereverTheBranchHasMoved) {
  PrepareRequest first = Req("ws1");
  first.pin = "01GROUPA";
  auto a = Prepare(git_, first);
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_FALSE(a->pinned);
  EXPECT_EQ(a->before_sha, first_sha_);
  Sh("cd " + origin_ + " && echo two > two.txt && git add two.txt && git commit -q -m two");
  const std::string second = Sh("git -C " + origin_ + " rev-parse HEAD");
  ASSERT_TRUE(Prepare(git_, Req("ws-other")).ok());  // an unrelated run fetches the new commit

  PrepareRequest later = Req("ws2");
  later.pin = "01GROUPA";
  auto b = Prepare(git_, later);
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_TRUE(b->pinned);
  EXPECT_EQ(b->branch, "trunk");
  EXPECT_EQ(b->before_sha, first_sha_);
  EXPECT_EQ(Sh("git -C " + root_ + "/ws2 rev-parse HEAD"), first_sha_);
  EXPECT_EQ(Sh("git -C " + root_ + "/ws2 rev-parse --abbrev-ref HEAD"), "trunk");
  EXPECT_FALSE(std::filesystem::exists(root_ + "/ws2/two.txt"));
  EXPECT_EQ(Sh("git -C " + root_ + "/ws2 status --porcelain"), "");

  PrepareRequest other_group = Req("ws3");
  other_group.pin = "01GROUPB";
  auto c = Prepare(git_, other_group);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(c->pinned);
  EXPECT_EQ(c->before_sha, second);

  PrepareRequest bad = Req("ws4");
  bad.pin = "../escape";
  EXPECT_EQ(Prepare(git_, bad).status().code(), Code::kInvalidArgument);
}

TEST_F(PrepareTest, ChecksOutTheRequestedBranch) {
  Sh("cd " + origin_ +
     " && git checkout -q -b feature && echo f > f.txt && git add f.txt && "
     "git commit -q -m f && git checkout -q trunk");
  const std::string feature = Sh("git -C " + origin_ + " rev-parse feature");
  auto p = Prepare(git_, Req("ws", "feature"));
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->branch, "feature");
  EXPECT_EQ(p->before_sha, feature);
  EXPECT_TRUE(std::filesystem::exists(root_ + "/ws/f.txt"));
}

TEST_F(PrepareTest, MissingBranchIsAGitError) {
  auto p = Prepare(git_, Req("ws", "nope"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(p.status().message().find("nope"), std::string::npos) << p.status().message();
}

TEST_F(PrepareTest, NonexistentRepoFailsWithGitsMessageAndLeavesNoCache) {
  PrepareRequest req = Req("ws");
  req.url = root_ + "/does-not-exist";
  auto p = Prepare(git_, req);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(p.status().message().find("git clone exited with code 128"), std::string::npos)
      << p.status().message();
  EXPECT_NE(p.status().message().find("does not exist"), std::string::npos) << p.status().message();
  EXPECT_FALSE(std::filesystem::exists(CacheDirFor(req.cache_root, req.url)));
  EXPECT_FALSE(std::filesystem::exists(CacheDirFor(req.cache_root, req.url) + ".tmp"));
}

TEST_F(PrepareTest, TokenNeverReachesArgvOrAnyGitConfig) {
  const std::string token = "ghp_0123456789abcdefghijklmnopqrstuvwxyz";
  PrepareRequest req = Req("ws");
  req.credential = GitCredential{"https://github.com", token};
  RecordingExec rec;
  auto p = Prepare(rec, req);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(rec.argv().find(token), std::string::npos);
  EXPECT_EQ(Read(root_ + "/ws/.git/config").find(token), std::string::npos);
  EXPECT_EQ(Read(p->cache_dir + "/config").find(token), std::string::npos);
  EXPECT_EQ(Sh("grep -rl " + token + " " + root_ + " || true"), "");
}

TEST_F(PrepareTest, CredentialHelperHandsTheTokenToGitFromTheEnvironment) {
  const std::string home = root_ + "/home";
  std::filesystem::create_directories(home);
  std::string env;
  for (const auto& kv : GitEnv(home, GitCredential{"https://github.com", "tok123"})) {
    env += "'" + kv + "' ";
  }
  std::string out = Sh("printf 'protocol=https\\nhost=github.com\\n\\n' | env -i " + env +
                       " git credential fill");
  EXPECT_NE(out.find("username=x-access-token"), std::string::npos) << out;
  EXPECT_NE(out.find("password=tok123"), std::string::npos) << out;
  // Any other origin: the helper is not asked, and with prompts off git gives up.
  for (const char* other :
       {"protocol=http\\nhost=github.com", "protocol=https\\nhost=evil.example",
        "protocol=https\\nhost=github.com.evil.example", "protocol=https\\nhost=github.com:8443"}) {
    std::string refused = Sh("printf '" + std::string(other) + "\\n\\n' | env -i " + env +
                             " git credential fill || echo REFUSED");
    EXPECT_EQ(refused.find("tok123"), std::string::npos) << other << ": " << refused;
    EXPECT_NE(refused.find("REFUSED"), std::string::npos) << other << ": " << refused;
  }
}

// F1 (security audit), against a real HTTP server that asks for credentials: git offers the
// token to the credential's own origin (the control: this server does elicit it) and to
// nothing else — not another host, not plain http when the origin is https.
TEST_F(PrepareTest, F1_TokenReachesOnlyItsOwnOriginOverHttp) {
  testing::AuthRecordingServer server;
  const std::string port = std::to_string(server.port());
  const std::string token = "ghp_F1scopedTOKENvalue0123456789";
  auto clone = [&](const std::string& url, const std::string& scope, const std::string& ws) {
    PrepareRequest req = Req(ws);
    req.url = url;
    req.allow_private_hosts = {"127.0.0.1", "localhost"};  // F10: a loopback server
    req.credential = GitCredential{scope, token};
    auto p = Prepare(git_, req);
    EXPECT_FALSE(p.ok()) << url;  // 401 every time: a repo_error
  };
  const std::string basic = "Basic " + Sh("printf %s 'x-access-token:" + token + "' | base64 -w0");
  clone("http://127.0.0.1:" + port + "/a/b.git", "http://127.0.0.1:" + port, "ws1");
  EXPECT_NE(server.authorizations().find(basic), std::string::npos) << server.authorizations();
  const std::size_t before = server.seen().size();
  clone("http://localhost:" + port + "/a/b.git", "http://127.0.0.1:" + port, "ws2");
  clone("http://127.0.0.1:" + port + "/a/b.git", "https://127.0.0.1:" + port, "ws3");
  clone("http://127.0.0.1:" + port + "/a/b.git", "https://github.com", "ws4");
  auto seen = server.seen();
  ASSERT_GT(seen.size(), before + 2);
  for (std::size_t i = before; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].authorization, "") << seen[i].host << seen[i].path;
  }
}

// F1: a server of the token's origin that redirects git to another host. Since F10 a network
// clone follows no redirect at all (its target's address would not be checked), so the
// redirect's target is never reached — let alone sent the token.
TEST_F(PrepareTest, F1_ARedirectToAnotherHostNeverCarriesTheToken) {
  testing::AuthRecordingServer target;
  testing::AuthRecordingServer redirecting("127.0.0.1",
                                           "http://localhost:" + std::to_string(target.port()));
  PrepareRequest req = Req("ws");
  req.url = "http://127.0.0.1:" + std::to_string(redirecting.port()) + "/a/b.git";
  req.credential = GitCredential{"http://127.0.0.1:" + std::to_string(redirecting.port()), "tokR"};
  req.allow_private_hosts = {"127.0.0.1", "localhost"};
  auto p = Prepare(git_, req);
  ASSERT_FALSE(p.ok());
  ASSERT_FALSE(redirecting.authorizations().empty());          // the control: its own origin got it
  EXPECT_TRUE(target.seen().empty()) << p.status().message();  // no redirect is followed
}

// F10: the host of a network repo is resolved and checked before git runs; a loopback one is
// refused (nothing reaches it) unless listed, by name or name:port.
TEST_F(PrepareTest, F10_ALoopbackHostIsRefusedUnlessListed) {
  testing::AuthRecordingServer server;
  const std::string port = std::to_string(server.port());
  for (const std::string& url : std::vector<std::string>{
           "http://127.0.0.1:" + port + "/a/b.git", "http://localhost:" + port + "/a/b.git",
           "https://[::1]:" + port + "/a/b.git", "http://[::ffff:7f00:1]:" + port + "/a/b.git",
           "git://127.0.0.1:" + port + "/a/b.git", "ssh://git@localhost:" + port + "/a/b.git",
           "git@127.0.0.1:a/b.git", "http://169.254.169.254/latest/meta-data",
           "http://10.1.2.3/a/b.git", "http://[fd00::1]/a/b.git", "http://100.64.0.1/a/b.git",
           "http://[64:ff9b::a00:1]/a/b.git"}) {
    PrepareRequest req = Req("ws");
    req.url = url;
    req.allow_private_hosts = {"localhost:1", "127.0.0.2", "git.internal"};  // not these
    auto p = Prepare(git_, req);
    ASSERT_FALSE(p.ok()) << url;
    EXPECT_EQ(p.status().code(), Code::kFailedPrecondition) << url;
    EXPECT_NE(p.status().message().find("allow_private_hosts"), std::string::npos)
        << url << ": " << p.status().message();
    EXPECT_FALSE(FileExists(req.workspace + "/.git")) << url;
  }
  EXPECT_TRUE(server.seen().empty());
  for (const std::string& listed : std::vector<std::string>{"127.0.0.1", "localhost:" + port}) {
    PrepareRequest req = Req("ws-" + listed.substr(0, 3));
    req.url =
        (listed == "127.0.0.1" ? "http://127.0.0.1:" : "http://localhost:") + port + "/a/b.git";
    req.allow_private_hosts = {listed};
    const std::size_t before = server.seen().size();
    auto p = Prepare(git_, req);
    EXPECT_FALSE(p.ok());  // it is no git server, but it was asked
    EXPECT_GT(server.seen().size(), before) << listed << ": " << p.status().message();
  }
}

// F9 item 3 (security audit): an ssh clone runs ssh as root, and OpenSSH takes ~/.ssh from the
// passwd entry, not $HOME: before the fix root's keys, agent, config and known_hosts served
// every tenant's ssh clone. Now ssh gets no key, no agent, no config, and only the operator's
// known_hosts ([git] ssh_known_hosts); without one, ssh URLs are refused before ssh runs.
TEST_F(PrepareTest, F9_SshNeverOffersRootsKeysOrAgent) {
  if (!FileExists("/usr/bin/ssh")) FAIL() << "this test needs OpenSSH's client, /usr/bin/ssh";
  ScopedEnv path("PATH", FakeSsh() + ":" + std::getenv("PATH"));
  ScopedEnv agent("SSH_AUTH_SOCK", root_ + "/agent.sock");
  const std::string known = root_ + "/known_hosts";
  ASSERT_TRUE(WriteFileAtomic(known, "", 0600).ok());
  PrepareRequest req = Req("ws");
  req.url = "ssh://git@localhost:2222/a/b.git";
  req.allow_private_hosts = {"localhost"};  // F10: the name is loopback
  auto p = Prepare(git_, req);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("ssh_known_hosts"), std::string::npos)
      << p.status().message();
  EXPECT_FALSE(FileExists(root_ + "/ssh.argv"));  // ssh never ran

  req.ssh_known_hosts = known;
  p = Prepare(git_, req);
  ASSERT_FALSE(p.ok());
  ASSERT_TRUE(FileExists(root_ + "/ssh.argv")) << p.status().message();
  std::vector<std::string> argv = SshArgv();
  EXPECT_EQ(Read(root_ + "/ssh.env").find("SSH_AUTH_SOCK"), std::string::npos);
  for (const char* want :
       {"IdentityAgent=none", "IdentityFile=none", "IdentitiesOnly=yes", "BatchMode=yes",
        "StrictHostKeyChecking=yes", "GlobalKnownHostsFile=/dev/null"}) {
    EXPECT_TRUE(Has(argv, want)) << want << "\n" << Read(root_ + "/ssh.argv");
  }
  EXPECT_TRUE(Has(argv, "UserKnownHostsFile=" + known)) << Read(root_ + "/ssh.argv");
  ASSERT_GE(argv.size(), 3u);
  EXPECT_EQ(argv[0], "-F");
  EXPECT_EQ(argv[1], "/dev/null");

  // The real ssh's reading of that command line (`ssh -G`: the configuration it would connect
  // with; the last argument, git's remote command, left out): no identity file of root's
  // (~/.ssh/id_*), no agent, no prompt, the operator's known_hosts alone.
  std::string cmd = "/usr/bin/ssh -G";
  for (std::size_t i = 0; i + 1 < argv.size(); ++i) cmd += " '" + argv[i] + "'";
  const std::string cfg = Sh(cmd + " 2>&1");
  EXPECT_EQ(cfg.find("identityfile ~/.ssh/id_"), std::string::npos) << cfg;
  EXPECT_EQ(cfg.find("/.ssh/"), std::string::npos) << cfg;
  EXPECT_NE(cfg.find("identityagent none"), std::string::npos) << cfg;
  EXPECT_NE(cfg.find("batchmode yes"), std::string::npos) << cfg;
  EXPECT_NE(cfg.find("pubkeyauthentication false"), std::string::npos) << cfg;
  EXPECT_NE(cfg.find("stricthostkeychecking true"), std::string::npos) << cfg;
  EXPECT_NE(cfg.find("userknownhostsfile " + known), std::string::npos) << cfg;
  EXPECT_NE(cfg.find("globalknownhostsfile /dev/null"), std::string::npos) << cfg;
}

// F10 residual: ssh and git:// clones were checked but then resolved the name again (a DNS
// answer that changed in between — rebinding — could take them to an internal address). Now
// both connect to the address that was checked: git:// sends it as the daemon's host=, ssh gets
// it as HostName with the name kept as HostKeyAlias (the known_hosts entry to match).
TEST_F(PrepareTest, F10_SshAndGitDaemonClonesConnectToTheCheckedAddress) {
  GitDaemonRecorder daemon;
  const std::string port = std::to_string(daemon.port());
  PrepareRequest req = Req("ws");
  req.url = "git://localhost:" + port + "/a/b.git";
  req.allow_private_hosts = {"localhost"};
  auto p = Prepare(git_, req);
  ASSERT_FALSE(p.ok());  // no daemon: it hangs up
  std::vector<std::string> seen = daemon.requests();
  ASSERT_EQ(seen.size(), 1u) << p.status().message();
  EXPECT_NE(seen[0].find("git-upload-pack /a/b.git"), std::string::npos) << seen[0];
  EXPECT_NE(seen[0].find(std::string("host=127.0.0.1:") + port), std::string::npos) << seen[0];
  EXPECT_EQ(seen[0].find("localhost"), std::string::npos) << seen[0];

  ScopedEnv path("PATH", FakeSsh() + ":" + std::getenv("PATH"));
  for (const auto& [url, alias] : std::vector<std::pair<std::string, std::string>>{
           {"git@localhost:a/b.git", "localhost"},
           {"ssh://git@localhost:2222/a/b.git", "[localhost]:2222"}}) {
    std::filesystem::remove(root_ + "/ssh.argv");
    req.url = url;
    req.ssh_known_hosts = "/dev/null";
    p = Prepare(git_, req);
    ASSERT_FALSE(p.ok());
    ASSERT_TRUE(FileExists(root_ + "/ssh.argv")) << url << ": " << p.status().message();
    std::vector<std::string> argv = SshArgv();
    EXPECT_TRUE(Has(argv, "HostName=127.0.0.1")) << url << "\n" << Read(root_ + "/ssh.argv");
    EXPECT_TRUE(Has(argv, "HostKeyAlias=" + alias)) << url << "\n" << Read(root_ + "/ssh.argv");
  }
}

TEST_F(PrepareTest, ConcurrentPreparesOfOneRepoDoNotRace) {
  constexpr int kRuns = 4;
  std::vector<Result<Prepared>> results(kRuns, Internal("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kRuns; ++i) {
    threads.emplace_back([&, i] {
      SpawnGitExec git;
      results[i] = Prepare(git, Req("ws" + std::to_string(i)));
    });
  }
  for (auto& t : threads) t.join();
  int created = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->before_sha, first_sha_);
    created += r->cache_created ? 1 : 0;
  }
  EXPECT_EQ(created, 1);
}

TEST_F(PrepareTest, ConcurrentPreparesFromSeveralProcessesDoNotRace) {
  constexpr int kRuns = 3;
  std::vector<pid_t> pids;
  for (int i = 0; i < kRuns; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) {
      SpawnGitExec git;
      auto r = Prepare(git, Req("p" + std::to_string(i)));
      ::_exit(r.ok() && r->before_sha == first_sha_ ? (r->cache_created ? 10 : 11) : 1);
    }
    pids.push_back(pid);
  }
  int created = 0;
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_TRUE(WEXITSTATUS(status) == 10 || WEXITSTATUS(status) == 11) << WEXITSTATUS(status);
    created += WEXITSTATUS(status) == 10 ? 1 : 0;
  }
  EXPECT_EQ(created, 1);
}

}  // namespace
}  // namespace outpost::workspace
