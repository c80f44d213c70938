// The real coding-agent CLIs (claude, codex, gemini from npm, pinned in package.json) run by a
// real `outpost serve` in real bubblewrap sandboxes, dispatched without a network policy (so
// with their adapter's default, "allowlist"), against the scripted fake model server
// (tests/fake_model_server/server.js) on 127.0.0.2, named by each agent's `base_url`. Every
// model request therefore goes through the sandbox's HTTP proxy: NO_PROXY=127.0.0.1 does not
// cover 127.0.0.2, and the sandbox has no other way out. What each CLI needs is in README.md.
//
// Fails as a whole, naming what is missing, when node_modules (scripts/install-deps.sh test) or
// node is absent, when the fake model server does not start, or when the hard-link mirror fails.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "testing/temp_dir.h"
#include "tests/agents/fake_model_server.h"
#include "tests/integration/server_fixture.h"

#ifndef OUTPOST_SOURCE_DIR
#error "OUTPOST_SOURCE_DIR must name the source tree (tests/CMakeLists.txt)"
#endif

namespace outpost::testing {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::seconds;

const std::string kSource = OUTPOST_SOURCE_DIR;

// One CLI under test: what to dispatch and what its errors look like in errorMessage.
struct Cli {
  std::string name;
  std::string secret;         // the OUTPOST_SECRET_* name its API key comes from
  std::string error_401;      // a substring of errorMessage after a 401
  std::string error_500;      // ... after a 500
  bool fenced_write = false;  // writes files from fenced ```lang:path blocks (grok), no tools
};

void PrintTo(const Cli& c, std::ostream* os) { *os << c.name; }

const Cli kClis[] = {
    {"claude", "ANTHROPIC_API_KEY", "API key", "500"},
    // codex reports any 5xx as "We're currently experiencing high demand…", never the body.
    {"codex", "OPENAI_API_KEY", "401", "high demand"},
    {"gemini", "GEMINI_API_KEY", "API key not valid", "Internal error encountered"},
    // Built in (`outpost grok-agent`), against the fake chat-completions endpoint.
    {"grok", "XAI_API_KEY", "API key rejected (HTTP 401", "server error (HTTP 500", true},
};

std::string Quoted(const std::string& s) { return json::serialize(json::value(s)); }

// The sandbox binds install_dirs BEFORE the workspace (/work) and the private /tmp, so a
// directory under /work or /tmp is hidden inside it. The source tree lives under /work here:
// bind a hard-linked mirror of node_modules from /var/tmp instead (cheap: ~900 files).
// Returns the mirror's directory, or "" with *error set.
std::string MirrorNodeModules(std::string* error) {
  std::optional<TempDir> mirror;
  try {
    mirror.emplace("outpost-agent-clis", "/var/tmp");
  } catch (const std::runtime_error& e) {
    *error = e.what();
    return "";
  }
  const std::string& dir = mirror->path();
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  std::error_code ec;
  // node_modules itself may be a link (a git worktree's to its checkout's): copy what it names,
  // or the mirror would hold only the link, which the sandbox cannot follow.
  const fs::path source = fs::canonical(kSource + "/node_modules", ec);
  if (!ec) {
    fs::copy(source, dir + "/node_modules",
             fs::copy_options::recursive | fs::copy_options::create_hard_links |
                 fs::copy_options::copy_symlinks,
             ec);
  }
  if (ec) {
    *error = "hard-linking " + kSource + "/node_modules into " + dir + ": " + ec.message();
    return "";  // the mirror's TempDir removes it
  }
  return mirror->Release();
}

// outpost.toml for the four agents: the embedded adapters (their default commands, found on
// PATH in the mirror), each pointed at the fake server by `base_url` alone — from which Outpost
// derives the CLI's own setting and the allowlist entry 127.0.0.2:PORT. Retries are turned
// down so that the 401/500 cases end at once.
std::string ConfigToml(const std::string& mirror, const FakeModelServer& fake) {
  const std::string dirs = "install_dirs = [" + Quoted(mirror) + "]\n";
  const std::string path = Quoted(mirror + "/node_modules/.bin:/usr/local/bin:/usr/bin:/bin");
  const std::string url = "base_url = " + Quoted(fake.url()) + "\n";
  std::string t;
  t += "[agents.claude]\n" + dirs + url;
  t += "env = { PATH = " + path + ", CLAUDE_CODE_MAX_RETRIES = \"0\" }\n\n";
  // codex's provider is "outpost" (derived): its base URL takes the /v1.
  t += "[agents.codex]\n" + dirs + "base_url = " + Quoted(fake.url() + "/v1") + "\n";
  t += "env = { PATH = " + path + " }\n\n";
  // gemini: retries off in its settings file (the adapter's, plus maxAttempts).
  const std::string settings =
      R"({"security":{"auth":{"selectedType":"gemini-api-key"}},"general":{"maxAttempts":1},)"
      R"("telemetry":{"enabled":false},"privacy":{"usageStatisticsEnabled":false}})";
  t += "[agents.gemini]\n" + dirs + url;
  t += "env = { PATH = " + path + " }\n";
  t += "home_files = { \".gemini/settings.json\" = " + Quoted(settings) + " }\n\n";
  // grok: the built-in default command ("{outpost} grok-agent"); its base URL takes the /v1.
  t += "[agents.grok]\nbase_url = " + Quoted(fake.url() + "/v1") + "\n";
  return t;
}

// The model writes hello.txt, then says so: a tool call for the tool-using CLIs; for grok one
// reply with a fenced `text:hello.txt` block. Usage adds up to 244 in / 29 out either way.
json::array WriteScript(const Cli& cli) {
  if (cli.fenced_write) {
    return {
        json::object{{"type", "text"},
                     {"text", "Here it is.\n\n```text:hello.txt\nhello from the fake model\n```\n"},
                     {"usage", {{"input_tokens", 244}, {"output_tokens", 29}}}}};
  }
  return {json::object{{"type", "write_file"},
                       {"path", "hello.txt"},
                       {"content", "hello from the fake model\n"},
                       {"usage", {{"input_tokens", 111}, {"output_tokens", 22}}}},
          json::object{{"type", "text"},
                       {"text", "Wrote hello.txt."},
                       {"usage", {{"input_tokens", 133}, {"output_tokens", 7}}}}};
}

class AgentCliTest : public ::testing::TestWithParam<Cli> {
 protected:
  static void SetUpTestSuite() {
    setup_error_ = "";
    for (const char* cli : {"claude", "codex", "gemini"}) {
      const std::string bin = kSource + "/node_modules/.bin/" + cli;
      if (!fs::exists(bin)) {
        setup_error_ = cli + std::string(" is not installed (no ") + bin +
                       "): run scripts/install-deps.sh test";
        return;
      }
    }
    // The sandbox binds /usr only: node must be there (/usr/bin or /usr/local/bin).
    if (access("/usr/bin/node", X_OK) != 0 && access("/usr/local/bin/node", X_OK) != 0) {
      setup_error_ =
          "node is not installed in /usr/bin or /usr/local/bin (the sandbox binds only /usr): "
          "run scripts/install-deps.sh test";
      return;
    }
    try {
      fake_ = FakeModelServer::Start(kSource + "/tests/fake_model_server/server.js");
    } catch (const std::exception& e) {
      setup_error_ = std::string("the fake model server does not start: ") + e.what();
      return;
    }
    mirror_ = MirrorNodeModules(&setup_error_);
    if (mirror_.empty()) return;
    dir_ = MakeTempDir();
    const std::string config = dir_ + "/outpost.toml";
    std::ofstream(config) << ConfigToml(mirror_, *fake_);
    // The repos are made beside the data dir, in dir_.
    std::map<std::string, std::string> env = {{"OUTPOST_ALLOW_LOCAL_REPOS", "1"},
                                              {"OUTPOST_LOCAL_REPO_ROOTS", dir_}};
    for (const Cli& c : kClis) env["OUTPOST_SECRET_" + c.secret] = "sk-fake-" + c.name;
    // The tests read a run's workspace after it ended: workspace images (discarded with the run,
    // README "Workspace images") are off here.
    env["OUTPOST_WORKSPACE_IMAGES"] = "0";
    server_ = ServerProcess::Start(dir_ + "/data", env, {"--config", config});
  }
  static void TearDownTestSuite() {
    server_.reset();
    if (!dir_.empty()) KillRunsUnder(dir_ + "/data");
    fake_.reset();
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
    if (!mirror_.empty()) fs::remove_all(mirror_, ec);
    dir_.clear();
    mirror_.clear();
  }
  void SetUp() override {
    // Set-up problems are failures of every case, never skips.
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    const json::object agent = AgentHealth(GetParam().name);
    ASSERT_FALSE(agent.empty()) << "outpost has no agent " << GetParam().name;
    ASSERT_TRUE(agent.at("available").as_bool())
        << GetParam().name
        << " is reported unavailable by /health/fleet: " << json::serialize(agent);
  }

  static json::object AgentHealth(const std::string& name) {
    json::value h = server_->Get("/health/fleet").Json();
    const json::value* agents = h.is_object() ? h.as_object().if_contains("agents") : nullptr;
    if (!agents && h.is_object() && h.as_object().contains("data")) {
      agents = h.at("data").as_object().if_contains("agents");
    }
    if (!agents || !agents->is_array()) return {};
    for (const auto& a : agents->as_array()) {
      if (a.is_object() && Str(a.as_object(), "agent") == name) return a.as_object();
    }
    return {};
  }

  // Scripts the fake server, dispatches a task to the CLI (no network policy: the adapter's
  // default) and waits for the run's terminal state.
  json::object Run(const json::array& script, int timeout_seconds = 120, json::object extra = {}) {
    EXPECT_TRUE(fake_->SetScript(script));
    json::object body{{"agent", GetParam().name},
                      {"task", "Create hello.txt."},
                      {"timeoutSeconds", timeout_seconds}};
    for (auto& kv : extra) body[kv.key()] = kv.value();
    HttpResponse r = server_->Post("/dispatch", json::serialize(body));
    rejected_ = r.status == 201 || r.status == 200 ? "" : r.body;
    json::value v = r.Json();
    if (!rejected_.empty() || !v.is_object()) {
      ADD_FAILURE() << "dispatch refused: " << r.status << " " << r.body;
      return {};
    }
    id_ = std::string(v.at("data").at("runId").as_string());
    return server_->WaitTerminal(id_, seconds(timeout_seconds + 60));
  }
  std::string RunDir() const { return dir_ + "/data/runs/" + id_; }
  // Shown on failure: what the agent printed.
  std::string Logs() const {
    return "\n--- stdout.log (tail) ---\n" + Tail(ReadAll(RunDir() + "/stdout.log")) +
           "\n--- stderr.log (tail) ---\n" + Tail(ReadAll(RunDir() + "/stderr.log"));
  }
  // errorMessage carries the CLI's own error (reason agent_error), not "exited with code N".
  void ExpectProviderMessage(const json::object& run, const std::string& want) const {
    EXPECT_EQ(Str(run, "reason"), "agent_error") << json::serialize(run) << Logs();
    const std::string msg = Str(run, "errorMessage");
    EXPECT_NE(msg.find(want), std::string::npos) << msg << Logs();
  }
  static std::string Tail(const std::string& s) {
    return s.size() > 3000 ? s.substr(s.size() - 3000) : s;
  }

  static inline std::string setup_error_, dir_, mirror_;
  static inline std::unique_ptr<FakeModelServer> fake_;
  static inline std::unique_ptr<ServerProcess> server_;
  std::string id_;
  std::string rejected_;  // the body of a refused dispatch
};

TEST_P(AgentCliTest, WritesTheScriptedFileThroughItsOwnTool) {
  json::object run = Run(WriteScript(GetParam()));
  ASSERT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run) << Logs();
  // No policy in the dispatch: the adapter's own, its model API only.
  EXPECT_EQ(Str(run.at("network").as_object(), "policy"), "allowlist") << json::serialize(run);
  EXPECT_EQ(ReadAll(RunDir() + "/workspace/hello.txt"), "hello from the fake model\n") << Logs();

  // Every model turn reached the fake server (through the sandbox's proxy), with the key.
  json::array reqs = fake_->Requests();
  int model_calls = 0;
  for (const auto& r : reqs) {
    const std::string path = Str(r.as_object(), "path");
    if (path.find("/__") == std::string::npos && Str(r.as_object(), "method") == "POST") {
      ++model_calls;
    }
  }
  EXPECT_GE(model_calls, GetParam().fenced_write ? 1 : 2) << json::serialize(reqs);

  const json::value* usage = run.if_contains("usage");
  ASSERT_TRUE(usage && usage->is_object()) << json::serialize(run);
  const json::object& u = usage->as_object();
  EXPECT_EQ(u.at("inputTokens").to_number<double>(), 244) << json::serialize(u);
  EXPECT_EQ(u.at("outputTokens").to_number<double>(), 29) << json::serialize(u);

  // The write is a tool_call {id, name, input} paired by id with a tool_result {id, output,
  // isError} whose output is not empty (gemini's write_file reports none: the parser says so).
  std::map<std::string, json::object> calls, results;
  std::istringstream events(ReadAll(RunDir() + "/events.jsonl"));
  for (std::string line; std::getline(events, line);) {
    json::object e = json::parse(line).as_object();
    if (Str(e, "type") == "tool_call") calls[Str(e, "id")] = e;
    if (Str(e, "type") == "tool_result") results[Str(e, "id")] = e;
  }
  ASSERT_FALSE(calls.empty()) << Logs();
  for (const auto& [id, call] : calls) {
    EXPECT_FALSE(id.empty()) << json::serialize(call);
    EXPECT_FALSE(Str(call, "name").empty()) << json::serialize(call);
    EXPECT_TRUE(call.contains("input")) << json::serialize(call);
    auto result = results.find(id);
    ASSERT_NE(result, results.end()) << "no tool_result for " << json::serialize(call);
    EXPECT_FALSE(Str(result->second, "output").empty()) << json::serialize(result->second);
    EXPECT_FALSE(result->second.at("isError").as_bool()) << json::serialize(result->second);
  }
  EXPECT_EQ(calls.size(), results.size());
}

TEST_P(AgentCliTest, TheScriptedWriteShowsUpInDiffPatchOfALocalRepo) {
  const std::string repo = dir_ + "/repo-" + GetParam().name;
  fs::create_directories(repo);
  std::ofstream(repo + "/README.md") << "seed\n";
  const std::string git = "git -C " + repo + " -c user.name=t -c user.email=t@example.com ";
  ASSERT_EQ(
      system(
          (git + "init -q -b main && " + git + "add -A && " + git + "commit -q -m seed").c_str()),
      0);
  json::object run = Run(WriteScript(GetParam()), 120, {{"repo", repo}});
  ASSERT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run) << Logs();
  const std::string patch = ReadAll(RunDir() + "/diff.patch");
  EXPECT_NE(patch.find("hello.txt"), std::string::npos) << patch;
  EXPECT_NE(patch.find("+hello from the fake model"), std::string::npos) << patch;
  const json::object& changes = run.at("changes").as_object();
  EXPECT_EQ(Str(changes, "kind"), "uncommitted");
  EXPECT_EQ(changes.at("insertions").to_number<int>(), 1) << json::serialize(changes);
  const json::array& stat = changes.at("diffStat").as_array();
  ASSERT_EQ(stat.size(), 1u) << json::serialize(changes);
  EXPECT_EQ(Str(stat[0].as_object(), "path"), "hello.txt");
}

TEST_P(AgentCliTest, ModelServer401EndsFailedWithTheProviderMessage) {
  json::object run = Run({json::object{{"type", "error"}, {"status", 401}}}, 90);
  ASSERT_EQ(Str(run, "status"), "FAILED") << json::serialize(run) << Logs();
  ExpectProviderMessage(run, GetParam().error_401);
}

TEST_P(AgentCliTest, ModelServer500EndsFailedWithTheProviderMessage) {
  json::object run = Run({json::object{{"type", "error"}, {"status", 500}}}, 90);
  ASSERT_EQ(Str(run, "status"), "FAILED") << json::serialize(run) << Logs();
  ExpectProviderMessage(run, GetParam().error_500);
}

TEST_P(AgentCliTest, AModelThatNeverAnswersEndsTimeout) {
  // Long enough for the slowest CLI to reach the server even on a loaded machine (gemini starts
  // in ~3 s idle, and took over 10 s under a parallel CI run).
  json::object run = Run({json::object{{"type", "hang"}}}, 20);
  EXPECT_EQ(Str(run, "status"), "TIMEOUT") << json::serialize(run) << Logs();
  EXPECT_FALSE(fake_->Requests().empty()) << "the CLI never reached the model server" << Logs();
}

TEST_P(AgentCliTest, WithoutNetworkTheRunSaysItHadNone) {
  // network "none": the CLI sees a refused connection or a failed lookup and may retry until
  // the timeout; either way the run says why.
  json::object run = Run(WriteScript(GetParam()), 30, {{"network", "none"}});
  const std::string status = Str(run, "status");
  EXPECT_TRUE(status == "FAILED" || status == "TIMEOUT") << json::serialize(run) << Logs();
  EXPECT_NE(Str(run, "errorMessage").find("the run had no network (network 'none')"),
            std::string::npos)
      << json::serialize(run) << Logs();
  EXPECT_TRUE(fake_->Requests().empty()) << "the model server was reached without network";
}

// Issue 18 item 8: a run killed mid-way (its total timeout, while the CLI waits for the model)
// leaves its API key in no file of its run directory — codex's shell_snapshots held
// OPENAI_API_KEY there; the kept home is scrubbed before exit.json.
TEST_P(AgentCliTest, Secrets_AtRest_AKilledRunLeavesNoKeyInItsRunDirectory) {
  json::object run = Run({json::object{{"type", "hang"}}}, 20);
  EXPECT_EQ(Str(run, "status"), "TIMEOUT") << json::serialize(run) << Logs();
  const std::string key = "sk-fake-" + GetParam().name;
  std::string hits;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(RunDir(), ec), end; !ec && it != end; it.increment(ec)) {
    const std::string path = it->path().string();
    if (path.find(key) != std::string::npos) hits += path + " (name)\n";
    if (it->is_symlink() || !it->is_regular_file()) continue;
    if (ReadAll(path).find(key) != std::string::npos) hits += path + "\n";
  }
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(hits, "") << Logs();
  EXPECT_FALSE(fs::exists(RunDir() + "/home/.codex/shell_snapshots"));
}

INSTANTIATE_TEST_SUITE_P(RealClis, AgentCliTest, ::testing::ValuesIn(kClis),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace outpost::testing
