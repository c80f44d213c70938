// The CLI a `gh`/`kubectl` user expects, against a real `outpost serve`: login and contexts in
// $XDG_CONFIG_HOME/outpost/config.toml, rerun, diff, short id prefixes, every list filter,
// -o json/--jq, logs --tail/--since, did-you-mean, completion; the first hour with keys (open
// mode's tenant `default`, `admin --create`, --tenant by name) on SQLite and DynamoDB
// (dynalite); and, in tmux, `runs --watch` and colour handling (a terminal, a pipe, NO_COLOR).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "aws/dynalite_fixture.h"
#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class CliTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    config_home_ = dir_ + "/xdg";
    server_ = ServerProcess::Start(dir_, {{"OUTPOST_RUNNER", "process"}});
    endpoint_ = "http://" + server_->address();
  }
  // `outpost ARGS` with this test's XDG_CONFIG_HOME and no OUTPOST_ENDPOINT/API_KEY leaking in.
  CliResult Cli(const std::vector<std::string>& args, std::map<std::string, std::string> env = {}) {
    env.emplace("XDG_CONFIG_HOME", config_home_);
    env.emplace("OUTPOST_ENDPOINT", "");
    env.emplace("TZ", "UTC");
    return RunOutpost(args, env);
  }
  std::string Dispatch(const std::string& task, const std::string& extra = "") {
    return server_->Dispatch(R"({"agent":"shell","task":")" + task + "\"" + extra + "}");
  }
  std::string ConfigFile() const { return config_home_ + "/outpost/config.toml"; }

  std::string config_home_, endpoint_;
};

TEST_F(CliTest, LoginSavesAContextThatCommandsUseAndContextManages) {
  // A refused login saves nothing.
  CliResult down = Cli({"login", "--endpoint", "http://127.0.0.1:1", "--no-key"});
  EXPECT_EQ(down.exit_code, 5) << down.err;
  EXPECT_FALSE(std::filesystem::exists(ConfigFile()));

  CliResult login = Cli({"login", "--endpoint", endpoint_, "--no-key", "--context", "local"});
  ASSERT_EQ(login.exit_code, 0) << login.err;
  struct stat st {};
  ASSERT_EQ(::stat(ConfigFile().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((config_home_ + "/outpost").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  const std::string id = Dispatch("echo hi");
  ASSERT_FALSE(id.empty());
  // No --endpoint: the current context's.
  CliResult runs = Cli({"runs", "-o", "json", "--jq", ".items[].runId"});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_EQ(Trimmed(runs.out), id);

  ASSERT_EQ(Cli({"login", "--endpoint", "http://127.0.0.1:1", "--context", "other", "--key", "k"})
                .exit_code,
            5);  // checked first: nothing saved
  CliResult list = Cli({"context", "list"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_TRUE(Contains(list.out, "*        local")) << list.out;
  EXPECT_FALSE(Contains(list.out, "other"));
  EXPECT_EQ(Trimmed(Cli({"context", "current"}).out), "local");

  // --context: a name that is not saved is a usage error; a dispatch context level says so.
  CliResult unknown = Cli({"runs", "--context", "nosuch"});
  EXPECT_EQ(unknown.exit_code, 64);
  EXPECT_TRUE(Contains(unknown.err, "no context 'nosuch'")) << unknown.err;
  CliResult level = Cli({"dispatch", "--agent", "shell", "--task", "x", "--context", "minimal"});
  EXPECT_EQ(level.exit_code, 64);
  EXPECT_TRUE(Contains(level.err, "--context-level minimal")) << level.err;
  EXPECT_EQ(Cli({"runs", "--context", "local", "--json"}).exit_code, 0);
  EXPECT_EQ(Cli({"--context", "local", "runs"}).exit_code, 0);

  EXPECT_EQ(Cli({"context", "use", "nosuch"}).exit_code, 64);
  EXPECT_EQ(Cli({"context", "delete", "local"}).exit_code, 0);
  EXPECT_EQ(Cli({"context", "current"}).exit_code, 1);
  EXPECT_TRUE(Contains(Cli({"context", "list"}).out, "no contexts"));
}

TEST_F(CliTest, LoginWithKeysChecksTheKeyAndTheContextKeyOnlyGoesToItsEndpoint) {
  const std::string tenant = OutpostAdmin(dir_, {"tenant", "create", "acme"});
  const std::string key = OutpostAdmin(dir_, {"key", "create", "--tenant", "acme"});
  ASSERT_TRUE(key.starts_with("otp_"));
  ASSERT_TRUE(WaitFor([&] { return server_->Get("/runs").status == 401; }, 10s));
  CliResult bad = Cli({"login", "--endpoint", endpoint_, "--key", "otp_wrong"});
  EXPECT_EQ(bad.exit_code, 4) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(ConfigFile()));
  CliResult ok = Cli({"login", "--endpoint", endpoint_, "--key", key});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_FALSE(Contains(ReadAll(ConfigFile()), "otp_wrong"));
  EXPECT_EQ(Cli({"runs"}).exit_code, 0);
  // Another endpoint given: the context's key is not sent there (401 here, so visible).
  CliResult other =
      Cli({"runs", "--endpoint",
           "http://localhost:" + server_->address().substr(server_->address().rfind(':') + 1)});
  EXPECT_EQ(other.exit_code, 4) << other.err;
  // A key from stdin (out of the shell's history).
  Sh("printf '%s\\n' " + key + " | XDG_CONFIG_HOME=" + config_home_ + " " + OutpostBin() +
     " login --endpoint " + endpoint_ + " --context piped");
  CliResult list = Cli({"context", "list", "--jq", ".[] | select(.current) | .name"});
  EXPECT_EQ(Trimmed(list.out), "piped") << list.err;
  EXPECT_TRUE(Contains(ReadAll(ConfigFile()), key));
  (void)tenant;
}

TEST_F(CliTest, PrefixIdsStatusRerunAndFilters) {
  const std::string a = Dispatch("echo one", R"(,"tags":{"team":"a"},"timeoutSeconds":600)");
  ASSERT_FALSE(a.empty());
  server_->WaitTerminal(a);
  const std::string b = Dispatch("echo two", R"(,"tags":{"team":"b"})");
  server_->WaitTerminal(b);

  // A prefix unique to `a` (ids differ within their last characters at the latest).
  std::size_t n = 4;
  while (n < 26 && a.substr(0, n) == b.substr(0, n)) ++n;
  CliResult status = Cli({"status", a.substr(0, n + 1), "--endpoint", endpoint_, "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(json::parse(status.out).at("runId").as_string(), a);
  if (n - 1 >= 4) {  // a shared prefix: ambiguous, both listed
    CliResult amb = Cli({"status", a.substr(0, n - 1), "--endpoint", endpoint_});
    EXPECT_EQ(amb.exit_code, 64) << amb.err;
    EXPECT_TRUE(Contains(amb.err, a) && Contains(amb.err, b)) << amb.err;
  }
  EXPECT_EQ(Cli({"status", "ZZZZZZZZ", "--endpoint", endpoint_}).exit_code, 4);
  EXPECT_EQ(Cli({"status", "01", "--endpoint", endpoint_}).exit_code, 4);

  // rerun: the same request, a new run.
  CliResult rerun = Cli({"rerun", a, "--endpoint", endpoint_, "--wait"});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  const std::string c = Trimmed(rerun.out.substr(0, rerun.out.find('\n')));
  ASSERT_NE(c, a);
  json::object again = server_->Run(c);
  EXPECT_EQ(again.at("task"), "echo one");
  EXPECT_EQ(again.at("timeoutSeconds"), 600);
  EXPECT_EQ(again.at("tags").at("team"), "a");

  // Filters: --tag, --since, --status, --agent, --jq.
  CliResult tagged = Cli({"runs", "--endpoint", endpoint_, "--tag", "team=a", "--jq",
                          "[.items[].runId] | sort | join(\",\")"});
  ASSERT_EQ(tagged.exit_code, 0) << tagged.err;
  EXPECT_EQ(Trimmed(tagged.out), std::min(a, c) + "," + std::max(a, c));
  CliResult recent = Cli({"runs", "--endpoint", endpoint_, "--since", "1h", "--agent", "shell",
                          "--status", "completed", "-o", "json", "--jq", ".items | length"});
  EXPECT_EQ(Trimmed(recent.out), "3") << recent.err;
  EXPECT_EQ(Trimmed(Cli({"runs", "--endpoint", endpoint_, "--since", "2099-01-01", "--jq",
                         ".items | length"})
                        .out),
            "0");
  CliResult bad = Cli({"runs", "--endpoint", endpoint_, "--since", "yesterday"});
  EXPECT_EQ(bad.exit_code, 64);
  EXPECT_TRUE(Contains(bad.err, "--since")) << bad.err;
  CliResult badjq = Cli({"runs", "--endpoint", endpoint_, "--jq", ".items["});
  EXPECT_EQ(badjq.exit_code, 64);
  // The table: local time with its zone.
  CliResult table = Cli({"runs", "--endpoint", endpoint_}, {{"TZ", "Asia/Tokyo"}});
  EXPECT_TRUE(Contains(table.out, " JST")) << table.out;
  CliResult utc = Cli({"runs", "--endpoint", endpoint_, "--utc"}, {{"TZ", "Asia/Tokyo"}});
  EXPECT_TRUE(Contains(utc.out, " UTC")) << utc.out;
}

TEST_F(CliTest, DispatchFlagsAndBadInputChangeNothing) {
  CliResult d = Cli({"dispatch", "--endpoint",
                     endpoint_,  "--agent",
                     "shell",    "--task",
                     "true",     "--timeout",
                     "10m",      "--inactivity-timeout",
                     "5m",       "--memory",
                     "1g",       "--cpus",
                     "0.5",      "--disk",
                     "2g",       "--network",
                     "none",     "--tag",
                     "k=v",      "--branch",
                     "",         "--idempotency-key",
                     "idem-1",   "--context-level",
                     "minimal"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  json::object run = server_->Run(Trimmed(d.out));
  EXPECT_EQ(run.at("timeoutSeconds"), 600);
  EXPECT_EQ(run.at("inactivityTimeoutSeconds"), 300);
  EXPECT_EQ(run.at("resourceConstraints").at("maxMemoryMb"), 1024);
  EXPECT_EQ(run.at("resourceConstraints").at("maxCpuUnits"), 512);
  EXPECT_EQ(run.at("resourceConstraints").at("maxDiskGb"), 2);
  EXPECT_EQ(run.at("network").at("policy"), "none");
  EXPECT_EQ(run.at("context"), "minimal");
  EXPECT_EQ(run.at("idempotencyKey"), "idem-1");
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"--timeout", "soon"},
                                              {"--memory", "lots"},
                                              {"--cpus", "0"},
                                              {"--disk", "2t"},
                                              {"--tag", "novalue"}}) {
    std::vector<std::string> args = {"dispatch", "--endpoint", endpoint_, "--agent",
                                     "shell",    "--task",     "true"};
    args.insert(args.end(), bad.begin(), bad.end());
    CliResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 64) << bad[0];
    EXPECT_TRUE(Contains(r.err, bad[0])) << r.err;
  }
  EXPECT_EQ(Trimmed(Cli({"runs", "--endpoint", endpoint_, "--jq", ".items | length"}).out), "1");
}

TEST_F(CliTest, LogsTailAndSince) {
  const std::string id = Dispatch("for i in 1 2 3 4 5; do echo line$i; done");
  server_->WaitTerminal(id);
  CliResult tail = Cli({"logs", id.substr(0, 20), "--endpoint", endpoint_, "--tail", "2"});
  ASSERT_EQ(tail.exit_code, 0) << tail.err;
  EXPECT_EQ(tail.out, "line4\nline5\n");
  CliResult all = Cli({"logs", id, "--endpoint", endpoint_, "--since", "1h"});
  EXPECT_TRUE(Contains(all.out, "line1\n") && Contains(all.out, "line5\n")) << all.out;
  CliResult none = Cli({"logs", id, "--endpoint", endpoint_, "--since", "2099-01-01"});
  EXPECT_EQ(none.out, "");
  EXPECT_EQ(Cli({"logs", id, "--endpoint", endpoint_, "-f", "--tail", "2"}).exit_code, 64);
  // --jq: the entries as a stream of JSON values through jq, after --tail/--since.
  CliResult jq = Cli({"logs", id, "--endpoint", endpoint_, "--tail", "3", "--jq",
                      "select(.stream == \"stdout\") | .message"});
  ASSERT_EQ(jq.exit_code, 0) << jq.err;
  EXPECT_EQ(jq.out, "line3\nline4\nline5\n");
  EXPECT_EQ(Cli({"logs", id, "--endpoint", endpoint_, "--jq", ".["}).exit_code, 64);
  EXPECT_EQ(Cli({"logs", id, "--endpoint", endpoint_, "-f", "--jq", "."}).exit_code, 64);
}

TEST_F(CliTest, DidYouMeanAndCompletion) {
  CliResult typo = Cli({"runz"});
  EXPECT_EQ(typo.exit_code, 64);
  EXPECT_TRUE(Contains(typo.err, "did you mean 'runs'")) << typo.err;
  CliResult flag = Cli({"runs", "--stauts", "x"});
  EXPECT_EQ(flag.exit_code, 64);
  EXPECT_TRUE(Contains(flag.err, "did you mean '--status'")) << flag.err;
  for (const char* shell : {"bash", "zsh", "fish"}) {
    CliResult c = Cli({"completion", shell});
    ASSERT_EQ(c.exit_code, 0) << shell;
    EXPECT_TRUE(Contains(c.out, "dispatch") && Contains(c.out, "context-level")) << shell;
  }
  const std::string script = dir_ + "/outpost.bash";
  std::ofstream(script) << Cli({"completion", "bash"}).out;
  // The script is valid bash, and completes `outpost ru` and `outpost runs --st`.
  EXPECT_EQ(Sh("bash -c 'source " + script +
               "; COMP_WORDS=(outpost ru); COMP_CWORD=1; _outpost; echo ${COMPREPLY[*]}'"),
            "runs");
  EXPECT_EQ(Sh("bash -c 'source " + script +
               "; COMP_WORDS=(outpost runs --st); COMP_CWORD=2; _outpost; echo ${COMPREPLY[*]}'"),
            "--status");
  EXPECT_EQ(Cli({"--version"}).exit_code, 0);
}

TEST(CliDiff, PrintsTheRunsPatchColouredOnlyWhenAsked) {
  const std::string dir = MakeTempDir(), repos = MakeTempDir();
  const std::string origin = repos + "/origin";
  Sh("git init -q -b trunk " + origin + " && cd " + origin +
     " && echo hello > README.md && git add README.md && "
     "git -c user.name=t -c user.email=t@e commit -q -m init");
  auto server = ServerProcess::Start(dir, {{"OUTPOST_RUNNER", "process"},
                                           {"OUTPOST_ALLOW_LOCAL_REPOS", "1"},
                                           {"OUTPOST_LOCAL_REPO_ROOTS", repos}});
  const std::string id = server->Dispatch(json::serialize(
      json::object{{"agent", "shell"}, {"task", "echo more >> README.md"}, {"repo", origin}}));
  ASSERT_EQ(Str(server->WaitTerminal(id), "status"), "COMPLETED");
  const std::string ep = "http://" + server->address();
  CliResult diff = RunOutpost({"diff", id, "--endpoint", ep});
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  EXPECT_TRUE(Contains(diff.out, "+more")) << diff.out;
  EXPECT_FALSE(Contains(diff.out, "\x1b[")) << "piped: no colour";
  CliResult json_out = RunOutpost({"diff", id, "--endpoint", ep, "--jq", ".patch"});
  EXPECT_TRUE(Contains(json_out.out, "+more"));
  const std::string clean = server->Dispatch(R"({"agent":"shell","task":"true"})");
  server->WaitTerminal(clean);
  CliResult none = RunOutpost({"diff", clean, "--endpoint", ep});
  EXPECT_EQ(none.exit_code, 4);
  EXPECT_TRUE(Contains(none.err, "no diff.patch")) << none.err;
  server.reset();
  KillRunsUnder(dir);
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(repos);
}

// `serve --runner` takes every runner the config's [runner] kind does (the README's
// `outpost serve --runner docker`); anything else is refused naming them, before any start.
TEST(ServeRunnerFlag, NamesEveryRunnerAndRefusesOthers) {
  const std::string dir = MakeTempDir();
  CliResult bad = RunOutpost({"serve", "--runner", "bwrap", "--data-dir", dir + "/data"});
  EXPECT_NE(bad.exit_code, 0);
  for (const char* kind : {"sandbox", "process", "docker", "ecs"}) {
    EXPECT_TRUE(Contains(bad.err, kind)) << kind << " in " << bad.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/data"));
  CliResult help = RunOutpost({"serve", "--help"});
  EXPECT_TRUE(Contains(help.out, "docker (a container per run")) << help.out;
  EXPECT_TRUE(Contains(help.out, "ecs (a Fargate task per run")) << help.out;
  std::filesystem::remove_all(dir);
}

// --- the first hour with keys -----------------------------------------------------------------

TEST(AdminStore, RefusesToMakeANewStoreWithoutCreateNamingIt) {
  const std::string dir = MakeTempDir();
  CliResult r = RunOutpost({"admin", "tenant", "create", "acme", "--data-dir", dir + "/data"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_TRUE(Contains(r.err, "sqlite://" + dir + "/data/outpost.db")) << r.err;
  EXPECT_TRUE(Contains(r.err, "--create")) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/data"));
  CliResult made =
      RunOutpost({"admin", "tenant", "create", "acme", "--data-dir", dir + "/data", "--create"});
  EXPECT_EQ(made.exit_code, 0) << made.err;
  EXPECT_EQ(RunOutpost({"admin", "tenant", "list", "--data-dir", dir + "/data"}).exit_code, 0);
  std::filesystem::remove_all(dir);
}

// Open mode's runs are tenant `default`'s: creating the first key says how to reach them, a
// key for `default` does, and serve says so at start while none exists. On both stores.
class DefaultTenantTest : public ServerTest, public ::testing::WithParamInterface<bool> {};

TEST_P(DefaultTenantTest, TheOpenModeRunsAreReachableWithAKeyForDefault) {
  const bool dynamo = GetParam();
  std::unique_ptr<aws::testing::Dynalite> dynalite;
  std::map<std::string, std::string> env = {{"OUTPOST_RUNNER", "process"}};
  std::vector<std::string> store_args;
  if (dynamo) {
    dynalite = std::make_unique<aws::testing::Dynalite>();
    ASSERT_TRUE(dynalite->ok()) << dynalite->error();
    env["AWS_ACCESS_KEY_ID"] = aws::testing::Dynalite::kAccessKey;
    env["AWS_SECRET_ACCESS_KEY"] = aws::testing::Dynalite::kSecretKey;
    store_args = {"--store", "dynamodb://deft?region=us-east-1&endpoint=" + dynalite->endpoint()};
  }
  auto serve_args = store_args;
  if (dynamo) serve_args.push_back("--create-tables");
  server_ = ServerProcess::Start(dir_, env, serve_args);
  const std::string open_run = server_->Dispatch(R"({"agent":"shell","task":"echo open"})");
  ASSERT_FALSE(open_run.empty());
  server_->WaitTerminal(open_run);
  auto admin = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "admin");
    args.insert(args.end(), {"--data-dir", dir_});
    args.insert(args.end(), store_args.begin(), store_args.end());
    return RunOutpost(args, env);
  };
  CliResult tenant = admin({"tenant", "create", "acme"});
  ASSERT_EQ(tenant.exit_code, 0) << tenant.err;
  // --tenant by name; the hint names the command that reaches the open-mode runs.
  CliResult first = admin({"key", "create", "--tenant", "acme"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_TRUE(Contains(first.err, "key create --tenant default")) << first.err;
  EXPECT_EQ(admin({"tenant", "create", "default"}).exit_code, 64);
  CliResult def = admin({"key", "create", "--tenant", "default", "--scopes", "status,list"});
  ASSERT_EQ(def.exit_code, 0) << def.err;
  EXPECT_FALSE(Contains(def.err, "note:")) << def.err;
  CliResult again = admin({"key", "create", "--tenant", "acme"});
  EXPECT_FALSE(Contains(again.err, "note:")) << "a key of default exists: " << again.err;
  EXPECT_TRUE(Contains(admin({"tenant", "list"}).out, "default"));
  const std::string key = Trimmed(def.out);
  ASSERT_TRUE(WaitFor([&] { return server_->Get("/runs").status == 401; }, 10s));
  HttpResponse runs =
      Http(server_->address(), "GET", "/runs", "", {{"Authorization", "Bearer " + key}});
  ASSERT_EQ(runs.status, 200);
  EXPECT_TRUE(Contains(runs.body, open_run)) << runs.body;
  HttpResponse acme = Http(server_->address(), "GET", "/runs/" + open_run, "",
                           {{"Authorization", "Bearer " + Trimmed(first.out)}});
  EXPECT_EQ(acme.status, 404);
  // serve says so at start while keys exist and no key reaches the default runs.
  server_.reset();
  CliResult list = admin({"key", "list", "--tenant", "default", "--json"});
  json::value keys = json::parse(list.out);
  ASSERT_EQ(keys.as_array().size(), 1u) << list.out;
  ASSERT_EQ(admin({"key", "revoke", std::string(keys.at(0).at("keyId").as_string())}).exit_code, 0);
  // Its stderr (the log) into a file: the child inherits fd 2 as Start forks.
  const std::string log = dir_ + "/serve.log";
  const int saved = ::dup(STDERR_FILENO);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  ::dup2(fd, STDERR_FILENO);
  ::close(fd);
  server_ = ServerProcess::Start(dir_, env, serve_args);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  EXPECT_TRUE(WaitFor([&] { return Contains(ReadAll(log), "key create --tenant default"); }, 10s))
      << ReadAll(log);
  server_.reset();
}

INSTANTIATE_TEST_SUITE_P(Stores, DefaultTenantTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "DynamoDb" : "Sqlite"; });

// --- a real terminal: tmux ---------------------------------------------------------------------

class TmuxTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (RunShell("command -v tmux >/dev/null").first != 0) {
      FAIL() << "tmux is not installed (scripts/install-deps.sh test installs it)";
    }
    session_ = "outpost-cli-" + std::to_string(::getpid());
  }
  void TearDown() override {
    Kill();
    CliTest::TearDown();
  }
  // Starts `cmd` in a fresh 200x50 pane (its own tmux server socket under dir_).
  void Start(const std::string& cmd) {
    Sh("tmux -S " + dir_ + "/tmux.sock new-session -d -x 200 -y 50 -s " + session_ +
       " -e XDG_CONFIG_HOME=" + config_home_ + " -e TERM=xterm-256color 'env -u NO_COLOR " + cmd +
       "; sleep 600'");
  }
  std::string Capture(bool escapes) {
    return RunShell("tmux -S " + dir_ + "/tmux.sock capture-pane -p " + (escapes ? "-e " : "") +
                    "-t " + session_)
        .second;
  }
  void Kill() { RunShell("tmux -S " + dir_ + "/tmux.sock kill-server 2>/dev/null"); }
  std::string session_;
};

TEST_F(TmuxTest, RunsWatchRedrawsInColourOnATerminal) {
  const std::string bin = OutpostBin();
  Start(bin + " runs --watch --interval 500ms --endpoint " + endpoint_);
  ASSERT_TRUE(WaitFor([&] { return Contains(Capture(false), "Every 500ms"); }, 10s))
      << Capture(false);
  const std::string id = Dispatch("echo watched");
  server_->WaitTerminal(id);
  ASSERT_TRUE(WaitFor([&] { return Contains(Capture(false), id); }, 10s)) << Capture(false);
  ASSERT_TRUE(WaitFor([&] { return Contains(Capture(false), "COMPLETED"); }, 10s));
  // Redrawn in place: the header once, the run once; the row in green.
  const std::string screen = Capture(false);
  EXPECT_EQ(screen.find("Every 500ms"), screen.rfind("Every 500ms")) << screen;
  EXPECT_EQ(screen.find(id), screen.rfind(id)) << screen;
  EXPECT_TRUE(Contains(Capture(true), "\x1b[32m")) << Capture(true);
  Kill();
}

TEST_F(TmuxTest, PipedOrNoColorMeansNoEscapes) {
  const std::string id = Dispatch("echo hi");
  server_->WaitTerminal(id);
  const std::string bin = OutpostBin();
  // On the terminal: colour. Piped through cat: none. NO_COLOR=1: none.
  Start(bin + " runs --endpoint " + endpoint_ + "; echo END1; " + bin + " runs --endpoint " +
        endpoint_ + " | cat; echo END2; NO_COLOR=1 " + bin + " runs --endpoint " + endpoint_ +
        "; echo END3");
  ASSERT_TRUE(WaitFor([&] { return Contains(Capture(false), "END3"); }, 10s)) << Capture(false);
  const std::string screen = Capture(true);
  const std::size_t end1 = screen.find("END1"), end2 = screen.find("END2"),
                    end3 = screen.find("END3");
  ASSERT_TRUE(end1 < end2 && end2 < end3) << screen;
  EXPECT_TRUE(Contains(screen.substr(0, end1), "\x1b[")) << screen;
  EXPECT_FALSE(Contains(screen.substr(end1, end2 - end1), "\x1b[32m")) << screen;
  EXPECT_FALSE(Contains(screen.substr(end2, end3 - end2), "\x1b[32m")) << screen;
  // Piped `runs --watch`: a line per change, appended.
  Kill();
  const std::string out = dir_ + "/watch.out";
  Start(bin + " runs --watch --interval 500ms --endpoint " + endpoint_ + " > " + out);
  ASSERT_TRUE(WaitFor([&] { return Contains(ReadAll(out), id); }, 10s));
  const std::string second = Dispatch("echo two");
  server_->WaitTerminal(second);
  ASSERT_TRUE(WaitFor([&] { return Contains(ReadAll(out), second + "  COMPLETED"); }, 10s))
      << ReadAll(out);
  EXPECT_FALSE(Contains(ReadAll(out), "\x1b[")) << ReadAll(out);
  Kill();
}

}  // namespace
}  // namespace outpost::testing
