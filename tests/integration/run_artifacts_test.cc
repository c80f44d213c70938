// Every run, however it ends, leaves its artifacts under dispatches/<runId>/ in the artifact
// store, listed by GET /runs/{id}/artifacts with URLs that expire and serve exactly the stored
// bytes. One test per terminal path (COMPLETED, FAILED, TIMEOUT, CANCELLED while running and
// while queued, supervisor_lost, a server killed while the run finished), with a real
// `outpost serve`, real shims and real git.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "aws/http.h"
#include "aws/s3_client.h"
#include "aws/s3rver_fixture.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "tests/integration/server_fixture.h"
#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::seconds;

constexpr char kConfig[] = R"(
[server]
runner = "process"
cancel_grace_seconds = 1
[agents.shell]
max_concurrent = 1
)";

// "http://127.0.0.1:PORT/files/..." -> ("127.0.0.1:PORT", "/files/...").
std::pair<std::string, std::string> SplitUrl(const std::string& url) {
  const std::string rest = url.substr(url.find("://") + 3);
  const auto slash = rest.find('/');
  return {rest.substr(0, slash), rest.substr(slash)};
}

// The same tests against the local store (files in the data dir, URLs served by outpost) and
// the S3 store on a real s3rver (presigned URLs served by s3rver).
enum class Backend { kLocal, kS3 };

class ArtifactsTest : public ServerTest, public ::testing::WithParamInterface<Backend> {
 protected:
  static void SetUpTestSuite() {
    if (!s3_) s3_ = std::make_unique<aws::testing::S3rver>();
    if (!s3_->ok()) return;
    aws::S3ClientOptions o;
    o.endpoint = s3_->endpoint();
    o.path_style = true;
    o.credentials = {aws::testing::S3rver::kAccessKey, aws::testing::S3rver::kSecretKey, ""};
    auto c = aws::S3Client::Create(o, aws::MakeHttpSender({}), RealClock::Instance());
    if (c.ok()) (void)(*c)->CreateBucket("outpost-artifacts");
  }
  static void TearDownTestSuite() { s3_.reset(); }

  void SetUp() override {
    ServerTest::SetUp();
    repos_ = MakeTempDir();  // outside the data dir (a local repo is never cloned from there)
    std::string config = kConfig;
    if (GetParam() == Backend::kS3) {
      ASSERT_TRUE(s3_->ok()) << s3_->error();
      config.replace(config.find("[server]\n") + 9, 0,
                     "artifacts = \"s3://outpost-artifacts/runs?endpoint=" + s3_->endpoint() +
                         "&region=us-east-1\"\n");
      env_ = {{"AWS_ACCESS_KEY_ID", aws::testing::S3rver::kAccessKey},
              {"AWS_SECRET_ACCESS_KEY", aws::testing::S3rver::kSecretKey}};
    }
    std::ofstream(dir_ + "/outpost.toml") << config;
    Start();
  }
  void TearDown() override {
    ServerTest::TearDown();
    std::error_code ec;
    fs::remove_all(repos_, ec);
  }
  void Start() {
    std::map<std::string, std::string> env = env_;
    env["OUTPOST_CONFIG"] = dir_ + "/outpost.toml";
    env["OUTPOST_ALLOW_LOCAL_REPOS"] = "1";
    env["OUTPOST_LOCAL_REPO_ROOTS"] = repos_;
    server_ = ServerProcess::Start(dir_, env);
    ASSERT_TRUE(server_);
  }
  std::string Dispatch(json::object body) {
    body.emplace("agent", "shell");
    return server_->Dispatch(json::serialize(body));
  }

  // Waits until the run's artifacts are recorded, then returns GET /runs/{id}/artifacts data
  // after checking every listed URL serves exactly the bytes its sha256 and size describe.
  json::object Artifacts(const std::string& id) {
    EXPECT_TRUE(WaitFor(
        [&] {
          const std::string s = Str(server_->Run(id), "artifactsStatus");
          return s == "stored" || s == "partial";
        },
        seconds(60)))
        << json::serialize(server_->Run(id));
    HttpResponse r = server_->Get("/runs/" + id + "/artifacts?expiresIn=120");
    EXPECT_EQ(r.status, 200) << r.body;
    json::object data = r.Json().at("data").as_object();
    EXPECT_EQ(Str(data, "artifactsStatus"), "stored") << json::serialize(data);
    for (const auto& v : data.at("artifacts").as_array()) {
      const json::object& a = v.as_object();
      auto [host, path] = SplitUrl(Str(a, "url"));
      HttpResponse got = Http(host, "GET", path);
      EXPECT_EQ(got.status, 200) << Str(a, "name") << " " << got.body;
      EXPECT_EQ(static_cast<std::int64_t>(got.body.size()), a.at("sizeBytes").as_int64());
      EXPECT_EQ(Sha256Hex(got.body), Str(a, "sha256")) << Str(a, "name");
      EXPECT_EQ(got.headers["content-type"], Str(a, "contentType"));
      bodies_[Str(a, "name")] = got.body;
    }
    return data;
  }
  static std::set<std::string> Names(const json::object& data) {
    std::set<std::string> out;
    for (const auto& v : data.at("artifacts").as_array()) out.insert(Str(v.as_object(), "name"));
    return out;
  }
  json::object Summary() { return json::parse(bodies_.at("summary.json")).as_object(); }

  std::string repos_;
  std::map<std::string, std::string> env_;
  std::map<std::string, std::string> bodies_;  // name -> content fetched through its URL
  static inline std::unique_ptr<aws::testing::S3rver> s3_;
};

TEST_P(ArtifactsTest, CompletedRunKeepsOutputAndSummaryBehindExpiringUrls) {
  const std::string id = Dispatch({{"task", "echo hello; echo oops >&2"}});
  json::object run = server_->WaitTerminal(id);
  ASSERT_EQ(Str(run, "status"), "COMPLETED");
  json::object data = Artifacts(id);
  EXPECT_EQ(Names(data),
            (std::set<std::string>{"output.log", "stderr.log", "events.jsonl", "summary.json"}));
  EXPECT_EQ(bodies_["output.log"], "hello\n");
  EXPECT_EQ(bodies_["stderr.log"], "oops\n");
  json::object summary = Summary();
  EXPECT_EQ(Str(summary, "status"), "COMPLETED");
  EXPECT_EQ(Str(summary, "reason"), "succeeded");
  EXPECT_EQ(summary.at("exitCode").as_int64(), 0);
  EXPECT_EQ(Str(summary, "agent"), "shell");
  EXPECT_TRUE(summary.contains("durationMs"));
  for (const auto& v : data.at("artifacts").as_array()) {
    const json::object& a = v.as_object();
    EXPECT_FALSE(Str(a, "expiresAt").empty());
    const std::string type = Str(a, "type");
    EXPECT_EQ(type, Str(a, "name") == "output.log"     ? "output"
                    : Str(a, "name") == "summary.json" ? "metadata"
                                                       : "logs");
  }
  // The alias of the original v2 answers the same list.
  HttpResponse alias = server_->Get("/artifacts/" + id);
  EXPECT_EQ(alias.status, 200);
  EXPECT_EQ(Names(alias.Json().at("data").as_object()), Names(data));
}

TEST_P(ArtifactsTest, ExpiresInOutsideItsRangeIsRefusedAndAnUnknownRunIsNotFound) {
  const std::string id = Dispatch({{"task", "true"}});
  server_->WaitTerminal(id);
  for (const char* bad : {"59", "86401", "abc", "", "3600.5"}) {
    HttpResponse r = server_->Get("/runs/" + id + "/artifacts?expiresIn=" + bad);
    EXPECT_EQ(r.status, 400) << bad << " " << r.body;
    EXPECT_NE(r.body.find("expiresIn"), std::string::npos) << r.body;
  }
  EXPECT_EQ(server_->Get("/runs/" + id + "/artifacts?expiresIn=60").status, 200);
  EXPECT_EQ(server_->Get("/runs/" + id + "/artifacts?expiresIn=86400").status, 200);
  EXPECT_EQ(server_->Get("/runs/01JZZZZZZZZZZZZZZZZZZZZZZZ/artifacts").status, 404);
  EXPECT_EQ(server_->Get("/artifacts/01JZZZZZZZZZZZZZZZZZZZZZZZ").status, 404);
}

TEST_P(ArtifactsTest, FailedRunKeepsItsOutputAndWhyInTheSummary) {
  const std::string id = Dispatch({{"task", "echo partial; exit 3"}});
  ASSERT_EQ(Str(server_->WaitTerminal(id), "status"), "FAILED");
  Artifacts(id);
  EXPECT_EQ(bodies_["output.log"], "partial\n");
  EXPECT_EQ(Str(Summary(), "reason"), "exit_nonzero");
  EXPECT_EQ(Summary().at("exitCode").as_int64(), 3);
}

TEST_P(ArtifactsTest, TimedOutRunKeepsWhatItPrinted) {
  const std::string id = Dispatch({{"task", "echo started; sleep 60"}, {"timeoutSeconds", 1}});
  ASSERT_EQ(Str(server_->WaitTerminal(id), "status"), "TIMEOUT");
  Artifacts(id);
  EXPECT_EQ(bodies_["output.log"], "started\n");
  EXPECT_EQ(Str(Summary(), "status"), "TIMEOUT");
}

TEST_P(ArtifactsTest, CancelledRunsKeepArtifactsWhetherRunningOrStillQueued) {
  // shell has max_concurrent 1: the second run waits in the queue.
  const std::string running = Dispatch({{"task", "echo working; sleep 60"}});
  // Cancelled only once it has printed (phase "running" comes before the shell's first write).
  ASSERT_TRUE(
      WaitFor([&] { return ReadAll(dir_ + "/runs/" + running + "/stdout.log") == "working\n"; },
              seconds(30)));
  const std::string queued = Dispatch({{"task", "echo never"}});
  ASSERT_EQ(Str(server_->Run(queued), "status"), "PENDING");
  EXPECT_EQ(server_->Post("/runs/" + queued + "/cancel", "{}").status, 200);
  EXPECT_EQ(server_->Post("/runs/" + running + "/cancel", "{}").status, 202);
  ASSERT_EQ(Str(server_->WaitTerminal(queued), "status"), "CANCELLED");
  ASSERT_EQ(Str(server_->WaitTerminal(running), "status"), "CANCELLED");

  Artifacts(queued);
  EXPECT_EQ(bodies_["output.log"], "");  // it never ran, and says so
  EXPECT_EQ(Str(Summary(), "status"), "CANCELLED");
  bodies_.clear();
  Artifacts(running);
  EXPECT_EQ(bodies_["output.log"], "working\n");
  EXPECT_EQ(Str(Summary(), "status"), "CANCELLED");
}

TEST_P(ArtifactsTest, SupervisorLostRunKeepsItsOutput) {
  const std::string id = Dispatch({{"task", "echo before the loss; sleep 60"}});
  ASSERT_TRUE(WaitFor([&] { return ReadAll(dir_ + "/runs/" + id + "/stdout.log").size() > 0; },
                      seconds(30)));
  json::value shim = json::parse(ReadAll(dir_ + "/runs/" + id + "/shim.json"));
  ASSERT_EQ(::kill(shim.at("pid").to_number<int>(), SIGKILL), 0);
  json::object run = server_->WaitTerminal(id, seconds(60));
  ASSERT_EQ(Str(run, "reason"), "supervisor_lost") << json::serialize(run);
  Artifacts(id);
  EXPECT_EQ(bodies_["output.log"], "before the loss\n");
  EXPECT_EQ(Str(Summary(), "reason"), "supervisor_lost");
}

TEST_P(ArtifactsTest, ARunThatEndsWhileTheServerIsDownGetsItsArtifactsAfterTheRestart) {
  const std::string id = Dispatch({{"task", "echo one; sleep 2; echo two"}});
  ASSERT_TRUE(WaitFor([&] { return Str(server_->Run(id), "phase") == "running"; }, seconds(30)));
  server_->Signal(SIGKILL);
  server_->Wait();
  server_.reset();
  ASSERT_TRUE(
      WaitFor([&] { return fs::exists(dir_ + "/runs/" + id + "/exit.json"); }, seconds(30)));
  Start();
  ASSERT_EQ(Str(server_->WaitTerminal(id), "status"), "COMPLETED");
  Artifacts(id);
  EXPECT_EQ(bodies_["output.log"], "one\ntwo\n");
}

TEST_P(ArtifactsTest, ARunOnARepositoryKeepsItsPatchAndBundle) {
  const std::string repo = repos_ + "/repo";
  fs::create_directories(repo);
  std::ofstream(repo + "/README.md") << "seed\n";
  const std::string git = "git -C " + repo + " -c user.name=t -c user.email=t@example.com ";
  ASSERT_EQ(
      system(
          (git + "init -q -b main && " + git + "add -A && " + git + "commit -q -m seed").c_str()),
      0);
  const std::string id = Dispatch(
      {{"task",
        "echo feature > f.txt && git add f.txt && git -c user.name=a -c user.email=a@x commit "
        "-q -m f && echo more >> README.md"},
       {"repo", repo}});
  json::object run = server_->WaitTerminal(id);
  ASSERT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
  json::object data = Artifacts(id);
  std::set<std::string> names = Names(data);
  EXPECT_TRUE(names.count("diff.patch")) << json::serialize(data);
  EXPECT_TRUE(names.count("changes.bundle")) << json::serialize(data);
  EXPECT_NE(bodies_["diff.patch"].find("+feature"), std::string::npos);
  EXPECT_NE(bodies_["diff.patch"].find("+more"), std::string::npos);
  EXPECT_EQ(Summary().at("changes").at("kind").as_string(), "committed");
  for (const auto& v : data.at("artifacts").as_array()) {
    const json::object& a = v.as_object();
    if (Str(a, "name") == "diff.patch") {
      EXPECT_EQ(Str(a, "type"), "patch");
    } else if (Str(a, "name") == "changes.bundle") {
      EXPECT_EQ(Str(a, "type"), "bundle");
    }
  }
  // The bundle fetched through its URL is a real git bundle of the new commit.
  const std::string bundle = dir_ + "/fetched.bundle";
  std::ofstream(bundle, std::ios::binary) << bodies_["changes.bundle"];
  EXPECT_EQ(system(("git -C " + repo + " bundle verify -q " + bundle + " >/dev/null 2>&1").c_str()),
            0);
}

TEST_P(ArtifactsTest, AnArtifactStoreThatFailsNeverHoldsUpTheTerminalStatus) {
  if (GetParam() == Backend::kLocal) {
    GTEST_SKIP() << "a failing local store is covered by core/artifact_uploader_test";
  }
  // The same s3rver, a bucket that does not exist: every upload fails (NoSuchBucket).
  server_.reset();
  std::string config = ReadAll(dir_ + "/outpost.toml");
  config.replace(config.find("s3://outpost-artifacts/"), 23, "s3://no-such-bucket-xyz/");
  std::ofstream(dir_ + "/outpost.toml") << config;
  Start();
  const std::string id = Dispatch({{"task", "echo done"}});
  json::object run = server_->WaitTerminal(id);
  EXPECT_EQ(Str(run, "status"), "COMPLETED");
  ASSERT_TRUE(
      WaitFor([&] { return Str(server_->Run(id), "artifactsStatus") == "partial"; }, seconds(60)))
      << json::serialize(server_->Run(id));
  json::object data = server_->Get("/runs/" + id + "/artifacts").Json().at("data").as_object();
  EXPECT_EQ(Str(data, "artifactsStatus"), "partial");
  std::set<std::string> missing;
  for (const auto& m : data.at("missing").as_array()) missing.insert(std::string(m.as_string()));
  EXPECT_TRUE(missing.count("output.log")) << json::serialize(data);
  EXPECT_TRUE(missing.count("summary.json")) << json::serialize(data);
  EXPECT_TRUE(data.at("artifacts").as_array().empty());
}

// Below the free-space threshold nothing is admitted: dispatch answers 503 with the reason,
// /health is degraded and names the disk, and nothing is written.
TEST(DiskGuardIntegration, LowFreeSpaceRefusesDispatchesAndDegradesHealth) {
  const std::string dir = MakeTempDir();
  // 1 PiB free is more than any test machine has.
  auto server = ServerProcess::Start(
      dir, {{"OUTPOST_RUNNER", "process"}, {"OUTPOST_MIN_FREE_DISK_MB", "1073741824"}});
  HttpResponse r = server->Post("/dispatch", R"({"agent":"shell","task":"echo hi"})");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(r.body.find("free disk space"), std::string::npos) << r.body;
  HttpResponse list = server->Get("/runs");
  EXPECT_EQ(list.Json().at("data").at("items").as_array().size(), 0u) << list.body;
  HttpResponse health = server->Get("/health");
  EXPECT_EQ(Str(health.Json().as_object(), "status"), "degraded") << health.body;
  EXPECT_EQ(health.Json().at("checks").at("disk").at("status").as_string(), "warn") << health.body;
  server.reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// Behind a proxy the server cannot know its own address: public_url sets the URLs' base.
TEST(PublicUrl, LocalArtifactUrlsUseTheConfiguredPublicBase) {
  const std::string dir = MakeTempDir();
  auto server = ServerProcess::Start(
      dir,
      {{"OUTPOST_RUNNER", "process"}, {"OUTPOST_PUBLIC_URL", "https://outpost.example.com/x"}});
  const std::string id = server->Dispatch(R"({"agent":"shell","task":"echo hi"})");
  server->WaitTerminal(id);
  ASSERT_TRUE(
      WaitFor([&] { return Str(server->Run(id), "artifactsStatus") == "stored"; }, seconds(60)));
  json::value data = server->Get("/runs/" + id + "/artifacts").Json().at("data");
  const json::array& list = data.at("artifacts").as_array();
  ASSERT_FALSE(list.empty());
  for (const auto& a : list) {
    EXPECT_EQ(Str(a.as_object(), "url").rfind("https://outpost.example.com/x/files/dispatches/", 0),
              0u)
        << Str(a.as_object(), "url");
  }
  server.reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

INSTANTIATE_TEST_SUITE_P(Backends, ArtifactsTest, ::testing::Values(Backend::kLocal, Backend::kS3),
                         [](const auto& info) {
                           return info.param == Backend::kLocal ? "Local" : "S3";
                         });

TEST_P(ArtifactsTest, CliDownloadsEveryArtifactVerified) {
  const std::string id = Dispatch({{"task", "echo hello"}});
  ASSERT_EQ(Str(server_->WaitTerminal(id), "status"), "COMPLETED");
  Artifacts(id);  // waits until they are stored
  const std::string dl = dir_ + "/downloaded/new";
  const std::string cmd = OutpostBin() + " artifacts " + id + " --download " + dl +
                          " --endpoint http://" + server_->address() + " 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0) << cmd << "\n" << out;  // exit status 0
  EXPECT_NE(out.find("output.log"), std::string::npos) << out;
  EXPECT_EQ(out.find("MISMATCH"), std::string::npos) << out;
  EXPECT_EQ(ReadAll(dl + "/output.log"), "hello\n");
  for (const auto& [name, body] : bodies_) EXPECT_EQ(ReadAll(dl + "/" + name), body) << name;
}

}  // namespace
}  // namespace outpost::testing
