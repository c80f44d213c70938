// Secrets end to end: a real `outpost serve` with OUTPOST_SECRET_* and a secrets dir, runs that
// print their secrets and credential-shaped strings, and checks that the logs hold
// [REDACTED], that no process's argv carries a value, and that the server never logs one.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {

namespace json = boost::json;

constexpr char kToken[] = "tok-9f8e7d6c5b4a-value";
constexpr char kKeyedKey[] = "keyed-0123456789-key";

// Every process's argv, NULs turned into spaces.
std::string AllCommandLines() {
  std::string all;
  DIR* proc = opendir("/proc");
  while (dirent* e = readdir(proc)) {
    if (std::atoi(e->d_name) <= 0) continue;
    std::string cmd = ReadAll(std::string("/proc/") + e->d_name + "/cmdline");
    for (char& c : cmd) c = c == '\0' ? ' ' : c;
    all += cmd + "\n";
  }
  closedir(proc);
  return all;
}

class SecretsTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    log_ = dir_ + "-server.log";
  }
  void TearDown() override {
    ServerTest::TearDown();
    std::filesystem::remove(log_);
  }
  // Starts the server with its stderr going to log_ (the fixture lets it inherit ours).
  void StartServer(std::map<std::string, std::string> env) {
    env.emplace("OUTPOST_CANCEL_GRACE_SECONDS", "1");
    env.emplace("OUTPOST_LOG_LEVEL", "debug");
    env.emplace("OUTPOST_WORKSPACE_IMAGES", images_ ? "1" : "0");
    int saved = ::dup(2);
    int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ::dup2(fd, 2);
    ::close(fd);
    try {
      server_ = ServerProcess::Start(dir_, env);
    } catch (...) {
      ::dup2(saved, 2);
      ::close(saved);
      throw;
    }
    ::dup2(saved, 2);
    ::close(saved);
  }
  void WriteConfig(const std::string& text) { std::ofstream(dir_ + "/outpost.toml") << text; }
  // Runs on loop-mounted workspace images (the default): their workspace and home go with the
  // image when the run ends. Off: they are kept, scrubbed (what a machine without loop
  // devices does), so a test can look at what the scrub left.
  bool images_ = true;
  void ScanAfterRuns();
  std::string RunFile(const std::string& id, const std::string& name) {
    return dir_ + "/runs/" + id + "/" + name;
  }
  static std::vector<json::object> Errors(const HttpResponse& r) {
    std::vector<json::object> out;
    const json::value body = r.Json();  // the range below must not outlive it
    for (const auto& e : body.at("error").at("details").at("errors").as_array()) {
      out.push_back(e.as_object());
    }
    return out;
  }

  std::string log_;
};

TEST_F(SecretsTest, AdditionalSecretReachesTheAgentAndIsRedactedEverywhere) {
  StartServer({{"OUTPOST_SECRET_MY_TOKEN", kToken}});
  json::object body{{"agent", "shell"},
                    {"task",
                     "echo $MY_TOKEN; echo ghp_0123456789abcdefghijklmnopqrstuvwxyzAB; "
                     "printf 'sk-ant-api03-secret\\n' >&2; sleep 5"},
                    {"additionalSecrets", json::array{"MY_TOKEN"}}};
  std::string id = server_->Dispatch(json::serialize(body));
  ASSERT_FALSE(id.empty());

  // While the run is running (its output is there, the sleep is not over).
  ASSERT_TRUE(WaitFor([&] { return ReadAll(RunFile(id, "stderr.log")).size() > 0; },
                      std::chrono::seconds(30)));
  std::string cmdlines = AllCommandLines();
  EXPECT_EQ(Str(server_->Run(id), "status"), "RUNNING");
  EXPECT_EQ(cmdlines.find(kToken), std::string::npos);
  // The shim gets what the run needs in memory (an inherited memfd), not the server's secrets
  // in its environment.
  json::value shim = json::parse(ReadAll(RunFile(id, "shim.json")));
  const std::string shim_env =
      ReadAll("/proc/" + std::to_string(shim.at("pid").to_number<int>()) + "/environ");
  EXPECT_FALSE(shim_env.empty());
  EXPECT_EQ(shim_env.find("OUTPOST_SECRET_"), std::string::npos);
  EXPECT_EQ(shim_env.find(kToken), std::string::npos);

  json::object run = server_->WaitTerminal(id);
  EXPECT_EQ(Str(run, "status"), "COMPLETED");
  EXPECT_EQ(ReadAll(RunFile(id, "stdout.log")), "[REDACTED]\n[REDACTED]\n");
  EXPECT_EQ(ReadAll(RunFile(id, "stderr.log")), "[REDACTED]\n");
  EXPECT_EQ(json::serialize(run).find(kToken), std::string::npos);

  struct stat st;
  ASSERT_EQ(::stat(RunFile(id, "spec.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Issue 18 item 8: the values reach the shim in memory, never through spec.json.
  EXPECT_EQ(ReadAll(RunFile(id, "spec.json")).find("\"redact\""), std::string::npos);
  EXPECT_EQ(ReadAll(RunFile(id, "spec.json")).find(kToken), std::string::npos);
  // exit.json counts what was written, not what the agent printed.
  json::value exit = json::parse(ReadAll(RunFile(id, "exit.json")));
  EXPECT_EQ(exit.at("stdout_bytes").as_int64(), 22);
  EXPECT_EQ(exit.at("stderr_bytes").as_int64(), 11);

  server_->Signal(SIGTERM);
  server_->Wait();
  std::string log = ReadAll(log_);
  EXPECT_EQ(log.find(kToken), std::string::npos);
}

// Issue 24 item 7: a task that holds a secret value (or a credential pattern) is shown
// redacted wherever it is shown — GET /runs/{id}, the list, summary.json —
// while the agent still gets it as given.
TEST_F(SecretsTest, TheTaskTextIsRedactedWhereverItIsShown) {
  StartServer({{"OUTPOST_SECRET_MY_TOKEN", kToken}});
  const std::string ghp = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";
  const std::string said = std::string("task-says:") + kToken + ":" + ghp;
  json::object body{{"agent", "shell"},
                    {"task", "printf '%s' '" + said + "' | wc -c"},
                    {"additionalSecrets", json::array{"MY_TOKEN"}}};
  HttpResponse dispatched = server_->Post("/dispatch", json::serialize(body));
  ASSERT_EQ(dispatched.status, 201) << dispatched.body;
  const std::string id(dispatched.Json().at("data").at("runId").as_string());
  auto expect_redacted = [&](const std::string& where, const std::string& text) {
    EXPECT_EQ(text.find(kToken), std::string::npos) << where << ": " << text;
    EXPECT_EQ(text.find(ghp), std::string::npos) << where << ": " << text;
    EXPECT_NE(text.find("task-says:[REDACTED]"), std::string::npos) << where << ": " << text;
  };
  EXPECT_EQ(dispatched.body.find(kToken), std::string::npos) << dispatched.body;
  json::object run = server_->WaitTerminal(id);
  EXPECT_EQ(Str(run, "status"), "COMPLETED");
  expect_redacted("GET /runs/{id}", Str(run, "task"));
  expect_redacted("GET /runs", server_->Get("/runs?limit=5").body);
  // The agent got the task as given: wc counted the whole unredacted text.
  EXPECT_EQ(ReadAll(RunFile(id, "stdout.log")), std::to_string(said.size()) + "\n");
  const std::string summary = dir_ + "/artifacts/dispatches/" + id + "/summary.json";
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(summary); }, std::chrono::seconds(30)));
  expect_redacted("summary.json", ReadAll(summary));
}

TEST_F(SecretsTest, AgentWithoutItsRequiredSecretIsRefusedAndReportedUnavailable) {
  WriteConfig(R"([agents.keyed]
command = ["/bin/sh", "-c", "{task}"]
models = ["m1"]
required_secrets = ["KEYED_API_KEY"]
)");
  StartServer({{"OUTPOST_CONFIG", dir_ + "/outpost.toml"}});
  HttpResponse r = server_->Post("/dispatch", R"({"agent":"keyed","task":"true"})");
  ASSERT_EQ(r.status, 400) << r.body;
  auto errors = Errors(r);
  ASSERT_EQ(errors.size(), 1u) << r.body;
  EXPECT_EQ(Str(errors[0], "path"), "agent");
  EXPECT_EQ(Str(errors[0], "message"),
            "agent keyed needs secret KEYED_API_KEY, which is not configured "
            "(OUTPOST_SECRET_KEYED_API_KEY or <secrets_dir>/KEYED_API_KEY)");

  HttpResponse fleet = server_->Get("/health/fleet");
  bool seen = false;
  const json::value fleet_body = fleet.Json();
  for (const auto& a : fleet_body.at("agents").as_array()) {
    if (Str(a.as_object(), "agent") != "keyed") continue;
    seen = true;
    EXPECT_FALSE(a.at("available").as_bool());
    EXPECT_NE(Str(a.as_object(), "reason").find("KEYED_API_KEY"), std::string::npos);
  }
  EXPECT_TRUE(seen) << fleet.body;
}

TEST_F(SecretsTest, RequiredSecretFromTheDefaultSecretsDirIsInjectedAndRedacted) {
  WriteConfig(R"([agents.keyed]
command = ["/bin/sh", "-c", "{task}"]
models = ["m1"]
required_secrets = ["KEYED_API_KEY"]
)");
  ASSERT_EQ(::mkdir((dir_ + "/secrets").c_str(), 0700), 0);
  std::string key_file = dir_ + "/secrets/KEYED_API_KEY";
  std::ofstream(key_file) << kKeyedKey << "\n";
  ASSERT_EQ(::chmod(key_file.c_str(), 0600), 0);
  StartServer({{"OUTPOST_CONFIG", dir_ + "/outpost.toml"}});
  std::string id = server_->Dispatch(
      R"({"agent":"keyed","task":"echo \"key=$KEYED_API_KEY\"; test -n \"$KEYED_API_KEY\""})");
  ASSERT_FALSE(id.empty());
  json::object run = server_->WaitTerminal(id);
  EXPECT_EQ(Str(run, "status"), "COMPLETED");
  EXPECT_EQ(ReadAll(RunFile(id, "stdout.log")), "key=[REDACTED]\n");
}

TEST_F(SecretsTest, ProtectedAndUnknownAdditionalSecretsAreRefused) {
  StartServer({{"OUTPOST_SECRET_GITHUB_TOKEN", "ghtoken-value"}});
  HttpResponse r = server_->Post(
      "/dispatch",
      R"({"agent":"shell","task":"true","additionalSecrets":["GITHUB_TOKEN","NOPE"]})");
  ASSERT_EQ(r.status, 400) << r.body;
  auto errors = Errors(r);
  ASSERT_EQ(errors.size(), 2u) << r.body;
  EXPECT_EQ(Str(errors[0], "path"), "additionalSecrets[0]");
  EXPECT_NE(Str(errors[0], "message").find("protected"), std::string::npos);
  EXPECT_EQ(Str(errors[1], "path"), "additionalSecrets[1]");
  EXPECT_EQ(Str(errors[1], "message"), "secret NOPE is not configured on this server");
}

// ---- Issue 18 items 8 and 9: secrets at rest ----

constexpr char kScanA[] = "scanA-7c1e5d93b2f04a68";    // OUTPOST_SECRET_SCAN_A
constexpr char kScanKey[] = "scanK-2a9f0c6e4d1b8375";  // <secrets_dir>/KEYED_API_KEY

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int s : {18, 12, 6, 0}) out += kAlphabet[(v >> s) & 63];
  }
  return out;  // a trailing partial group is left off: the needle is what any encoding holds
}

// What a file would hold if it kept `value`: the value itself, and its base64 at each of the
// three alignments (the middle of it, which does not depend on the bytes around it).
std::vector<std::string> Needles(const std::string& value) {
  std::vector<std::string> out{value};
  for (int pad = 0; pad < 3; ++pad) {
    std::string enc = Base64(std::string(static_cast<std::size_t>(pad), 'x') + value);
    const std::size_t skip = pad == 0 ? 0 : 4;  // the group that mixes the padding in
    out.push_back(enc.substr(skip, enc.size() - skip - 4));
  }
  return out;
}

// The data of a file: only its data extents (SEEK_DATA/SEEK_HOLE), so the sparse workspace
// images of the pool (GiBs of holes) are read in what they hold; a hole reads as zeros, and
// one NUL stands for it, so no match spans one.
std::string ReadData(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  off_t pos = 0;
  for (;;) {
    const off_t data = ::lseek(fd, pos, SEEK_DATA);
    if (data < 0) break;  // ENXIO: no data after pos
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) break;
    if (!out.empty()) out.push_back('\0');
    std::string chunk(static_cast<std::size_t>(hole - data), '\0');
    const ssize_t n = ::pread(fd, chunk.data(), chunk.size(), data);
    if (n > 0) out.append(chunk.data(), static_cast<std::size_t>(n));
    pos = hole;
  }
  ::close(fd);
  return out;
}

// Every file under `root` (links not followed; `skip`: paths left out, with why in the caller)
// whose name or content holds a needle of one of `values`: "path: what".
std::vector<std::string> ScanTree(const std::string& root, const std::vector<std::string>& values,
                                  const std::vector<std::string>& skip = {}) {
  std::vector<std::string> hits;
  auto scan = [&](const std::string& path, bool regular) {
    const std::string content = regular ? ReadData(path) : "";
    for (const auto& v : values) {
      for (const auto& n : Needles(v)) {
        if (path.find(n) != std::string::npos) hits.push_back(path + ": name holds " + n);
        if (content.find(n) != std::string::npos) hits.push_back(path + ": holds " + n);
      }
    }
  };
  if (std::filesystem::is_regular_file(root)) {
    scan(root, true);
    return hits;
  }
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(root, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string path = it->path().string();
    if (std::find(skip.begin(), skip.end(), path) != skip.end()) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    scan(path, !it->is_symlink() && it->is_regular_file());
  }
  if (ec) hits.push_back(root + ": not scanned whole: " + ec.message());
  return hits;
}

// The same for what git keeps compressed: every object of every repository under `root` (a
// `.git` directory or a bare repository: a directory with HEAD and objects/), decompressed.
std::vector<std::string> ScanGitObjects(const std::string& root,
                                        const std::vector<std::string>& values) {
  std::vector<std::string> hits;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(root, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_symlink() || !it->is_directory()) continue;
    const std::string path = it->path().string();
    if (!std::filesystem::exists(path + "/HEAD") ||
        !std::filesystem::is_directory(path + "/objects"))
      continue;
    auto [status, objects] =
        RunShell("git --git-dir='" + path + "' cat-file --batch-all-objects --batch 2>&1");
    if (status != 0) hits.push_back(path + ": git cat-file failed: " + objects);
    for (const auto& v : values) {
      for (const auto& n : Needles(v)) {
        if (objects.find(n) != std::string::npos) hits.push_back(path + ": an object holds " + n);
      }
    }
  }
  return hits;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Item 8: the secrets reach the shim in memory; a shim outlives the server that started it,
// and one started again without the secret finishes the run with it.
TEST_F(SecretsTest, Secrets_AtRest_AShimWhoseServerWasKilledStillHasItsSecrets) {
  images_ = false;  // the workspace is looked at after the run
  StartServer({{"OUTPOST_SECRET_SCAN_A", kScanA}});
  json::object body{{"agent", "shell"},
                    {"task",
                     "while [ ! -e GO ]; do sleep 0.1; done; echo \"$SCAN_A\"; "
                     "printf %s \"$SCAN_A\" | rev > seen.txt"},
                    {"additionalSecrets", json::array{"SCAN_A"}}};
  std::string id = server_->Dispatch(json::serialize(body));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitFor([&] { return !ReadAll(RunFile(id, "started.json")).empty(); },
                      std::chrono::seconds(30)));
  EXPECT_EQ(ReadAll(RunFile(id, "spec.json")).find(kScanA), std::string::npos);
  server_->Signal(SIGKILL);
  server_->Wait();
  server_.reset();
  std::ofstream(RunFile(id, "workspace/GO")) << "go\n";
  StartServer({});  // no secret now: the run has what its shim took at its start
  json::object run = server_->WaitTerminal(id);
  EXPECT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
  EXPECT_EQ(ReadAll(RunFile(id, "stdout.log")), "[REDACTED]\n");
  const std::string value = kScanA;
  const std::string want(value.rbegin(), value.rend());
  EXPECT_EQ(ReadAll(RunFile(id, "workspace/seen.txt")), want);
}

// Item 9: a representative set of runs with distinctive secret values, then everything they
// left — data dir (SQLite files, runs, homes, workspaces, audit log, artifacts) and the
// server's log — is searched for the values (raw and base64) and for names holding them.
TEST_F(SecretsTest, Secrets_Scan_NothingTheRunsLeaveHoldsASecretValue) {
  images_ = false;  // homes and workspaces kept, scrubbed
  ScanAfterRuns();
}

// The same on workspace images (the default): what a run wrote goes with its image, and the
// pool's images (free, and released ones waiting to be wiped) hold nothing of a run.
TEST_F(SecretsTest, Secrets_Scan_OnWorkspaceImagesNothingTheRunsLeaveHoldsASecretValue) {
  images_ = true;
  ScanAfterRuns();
}

void SecretsTest::ScanAfterRuns() {
  WriteConfig(R"([agents.keyed]
command = ["/bin/sh", "-c", "{task}"]
models = ["m1"]
required_secrets = ["KEYED_API_KEY"]
)");
  ASSERT_EQ(::mkdir((dir_ + "/secrets").c_str(), 0700), 0);
  const std::string key_file = dir_ + "/secrets/KEYED_API_KEY";
  std::ofstream(key_file) << kScanKey << "\n";
  ASSERT_EQ(::chmod(key_file.c_str(), 0600), 0);
  // The repo the runs work in, beside the data dir.
  const std::string repo = dir_ + "-repo";
  Sh("git init -q -b main " + repo + " && cd " + repo +
     " && echo seed > README.md && git add -A && "
     "git -c user.name=t -c user.email=t@example.com commit -q -m seed");
  StartServer({{"OUTPOST_SECRET_SCAN_A", kScanA},
               {"OUTPOST_CONFIG", dir_ + "/outpost.toml"},
               {"OUTPOST_ALLOW_LOCAL_REPOS", "1"},
               {"OUTPOST_LOCAL_REPO_ROOTS", repo}});
  auto dispatch = [&](const std::string& agent, const std::string& task, json::object extra = {}) {
    json::object body{{"agent", agent}, {"task", task}};
    // Only a shell task goes without the context a repo adds to the task (it is shell code).
    if (agent == "shell") {
      body["repo"] = repo;
      body["additionalSecrets"] = json::array{"SCAN_A"};
    }
    for (auto& kv : extra) body[kv.key()] = kv.value();
    std::string id = server_->Dispatch(json::serialize(body));
    EXPECT_FALSE(id.empty()) << task;
    return id;
  };
  const std::string home_writes =
      "mkdir -p $HOME/.codex/shell_snapshots && "
      "echo \"export SCAN_A=$SCAN_A\" > $HOME/.codex/shell_snapshots/s.sh && "
      "echo \"$SCAN_A\" > \"$HOME/cache-$SCAN_A\"; ";
  std::vector<std::string> ids;
  // Output on both streams; the repo (a new file, an edit, a commit message); the home.
  ids.push_back(dispatch("shell", "echo \"$SCAN_A\"; echo \"out $SCAN_A\" >&2"));
  ids.push_back(dispatch("shell", home_writes +
                                      "echo \"$SCAN_A\" > new.txt && echo \"k=$SCAN_A\" >> "
                                      "README.md && git add -A && git -c user.name=a -c "
                                      "user.email=a@example.com commit -q -m \"msg $SCAN_A\" && "
                                      "echo \"after $SCAN_A\" > uncommitted.txt"));
  // Uncommitted changes only (a diff, no bundle).
  ids.push_back(dispatch("shell", "echo \"x $SCAN_A\" >> README.md"));
  // Failing.
  ids.push_back(dispatch("shell", home_writes + "echo \"$SCAN_A\" >&2; exit 3"));
  // Killed by its timeout.
  ids.push_back(dispatch("shell", home_writes + "echo \"$SCAN_A\" > t.txt; sleep 120",
                         {{"timeoutSeconds", 3}}));
  // Cancelled mid-way.
  const std::string cancelled =
      dispatch("shell", home_writes + "echo \"$SCAN_A\" > c.txt; echo started; sleep 120");
  ids.push_back(cancelled);
  // A required secret from the secrets dir (no repo), in the output and the workspace.
  ids.push_back(dispatch("keyed", "echo \"key=$KEYED_API_KEY\" | tee key.txt"));
  ASSERT_TRUE(WaitFor([&] { return !ReadAll(RunFile(cancelled, "stdout.log")).empty(); },
                      std::chrono::seconds(60)));
  server_->Post("/runs/" + cancelled + "/cancel", R"({"reason":"scan"})");
  std::map<std::string, std::string> status;
  std::map<std::string, std::string> runs;  // shown on failure
  for (const auto& id : ids) {
    json::object run = server_->WaitTerminal(id);
    status[id] = Str(run, "status");
    runs[id] = json::serialize(run);
  }
  EXPECT_EQ(status[ids[0]], "COMPLETED");
  EXPECT_EQ(status[ids[1]], "COMPLETED");
  EXPECT_EQ(status[ids[3]], "FAILED");
  EXPECT_EQ(status[ids[4]], "TIMEOUT");
  EXPECT_EQ(status[cancelled], "CANCELLED");
  EXPECT_EQ(status[ids[6]], "COMPLETED") << runs[ids[6]];
  EXPECT_EQ(ReadAll(RunFile(ids[6], "stdout.log")), "key=[REDACTED]\n");
  // The runs' artifacts are served (and the server logs the requests) before the scan.
  for (const auto& id : ids) {
    server_->Get("/runs/" + id);
    server_->Get("/runs/" + id + "/logs");
  }
  server_->Signal(SIGTERM);
  server_->Wait();
  // A repository run's workspace goes once its changes are collected (issue 18 item 10);
  // what the runs wrote is in their changes, which the scan below looks at.
  EXPECT_FALSE(std::filesystem::exists(RunFile(ids[1], "workspace/new.txt")));
  EXPECT_FALSE(std::filesystem::exists(RunFile(cancelled, "workspace/c.txt")));
  if (!images_) {
    // The home is kept, redacted, so the scan below looks at it.
    EXPECT_EQ(ReadAll(RunFile(ids[1], "home/cache-[REDACTED]")), "[REDACTED]\n");
  } else {
    // It went with the image; the pool is there, so the scan below looks into it.
    EXPECT_FALSE(std::filesystem::exists(RunFile(ids[1], "home")));
    EXPECT_TRUE(std::filesystem::exists(dir_ + "/images")) << "no image pool in the data dir";
  }
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/outpost.db"));
  // Left out, because they are the operator's own copies of the values: the secrets dir and
  // the config file (which names no value here).
  std::vector<std::string> hits =
      ScanTree(dir_, {kScanA, kScanKey}, {dir_ + "/secrets", dir_ + "/outpost.toml"});
  for (const auto& h : ScanTree(log_, {kScanA, kScanKey})) hits.push_back(h);
  for (const auto& h : ScanGitObjects(dir_, {kScanA, kScanKey})) hits.push_back(h);
  EXPECT_EQ(Joined(hits), "");
  std::filesystem::remove_all(repo);
}

}  // namespace
}  // namespace outpost::testing
