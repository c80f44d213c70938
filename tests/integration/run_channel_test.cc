// The run channel's token and the local sandbox (README "Run channel"): a real `outpost serve`
// with the sandbox runner dispatches a real run. Core issues the run's channel token at launch
// (the record keeps its SHA-256), and the sandbox runner must not hand it on: it appears nowhere
// in the data dir (run directory, shim spec, the agent's home and output) and not in the agent's
// environment (the agent prints it).

#include <boost/json/serialize.hpp>
#include <filesystem>
#include <regex>
#include <set>

#include "common/crypto.h"
#include "store/sqlite/sqlite_run_store.h"
#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {
namespace fs = std::filesystem;
using std::chrono::seconds;

class RunChannelSandboxTest : public ServerTest {};

// Every string of the token's shape for `run_id` ("<runId>.<43 base64url chars>") in the files
// under `root`.
std::set<std::string> TokenShapedStrings(const std::string& root, const std::string& run_id,
                                         int* files) {
  std::set<std::string> found;
  const std::regex shape(run_id + R"(\.[A-Za-z0-9_-]{43})");
  for (auto it =
           fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied);
       it != fs::recursive_directory_iterator(); ++it) {
    std::error_code ec;
    if (!it->is_regular_file(ec) || it->file_size(ec) > (64u << 20)) continue;
    const std::string text = ReadAll(it->path().string());
    ++*files;
    for (auto m = std::sregex_iterator(text.begin(), text.end(), shape);
         m != std::sregex_iterator(); ++m) {
      found.insert(m->str());
    }
  }
  return found;
}

TEST_F(RunChannelSandboxTest, TheRunTokenReachesNeitherTheRunDirectoryNorTheAgentsEnvironment) {
  server_ = ServerProcess::Start(dir_, {});
  const boost::json::value health = server_->Get("/health").Json();
  ASSERT_EQ(health.at("checks").at("runner").at("runner").as_string(), "sandbox")
      << "this test needs the sandbox runner (bubblewrap + cgroups)";
  // The agent shows everything it was given: its environment, its home's files.
  const std::string id = server_->Dispatch(
      R"({"agent":"shell","task":"env; echo ENV-DONE; cat /proc/self/environ | tr '\\0' '\\n'; ls -la ~; cat ~/.* 2>/dev/null; true","timeoutSeconds":60})");
  ASSERT_FALSE(id.empty());
  const boost::json::object run = server_->WaitTerminal(id, seconds(90));
  ASSERT_EQ(Str(run, "status"), "COMPLETED") << boost::json::serialize(run);

  // A token was issued for the attempt: the record keeps its hash (only).
  auto store = SqliteRunStore::Open(dir_ + "/outpost.db");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto record = (*store)->Get(RunId(id));
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  ASSERT_EQ(record->channel_attempt, 1);
  ASSERT_EQ(record->channel_token_sha256.size(), 64u);

  // The agent did print its environment (the check below is not vacuous).
  const std::string out = ReadAll(dir_ + "/runs/" + id + "/stdout.log");
  ASSERT_NE(out.find("ENV-DONE"), std::string::npos) << out;
  ASSERT_NE(out.find("HOME="), std::string::npos) << out;

  // Nothing of the token's shape anywhere under the data dir, let alone the token itself.
  int files = 0;
  const std::set<std::string> found = TokenShapedStrings(dir_, id, &files);
  EXPECT_GT(files, 5);  // the run directory was there to scan
  for (const std::string& s : found) {
    EXPECT_NE(Sha256Hex(s), record->channel_token_sha256) << "the run's token is on disk: " << s;
  }
  EXPECT_TRUE(found.empty()) << "token-shaped strings on disk: " << *found.begin();
}

// The real server serves /internal/v1: without the run's token every route is 401 in the error
// envelope (open mode included: no API key is needed elsewhere, the channel still wants its
// token), and the refused requests leave the run alone.
TEST_F(RunChannelSandboxTest, TheServerRefusesChannelRequestsWithoutTheRunsToken) {
  server_ = ServerProcess::Start(dir_, {{"OUTPOST_RUNNER", "process"}});
  const std::string id =
      server_->Dispatch(R"({"agent":"shell","task":"echo channel-ok","timeoutSeconds":60})");
  ASSERT_FALSE(id.empty());
  const std::string base = "/internal/v1/runs/" + id;
  const std::string events =
      R"({"events":[{"seq":1,"ts":"2026-12-06T10:00:00.000Z","type":"output","stream":"stdout","data":"forged\n"}]})";
  const std::string forged = id + "." + std::string(43, 'A');
  for (const auto& headers : std::vector<std::map<std::string, std::string>>{
           {}, {{"Authorization", "Bearer " + forged}}, {{"X-Outpost-Run-Token", forged}}}) {
    HttpResponse r = Http(server_->address(), "POST", base + "/events", events, [&] {
      auto h = headers;
      h["Content-Type"] = "application/json";
      return h;
    }());
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(r.Json().at("error").at("code"), "AUTHENTICATION_ERROR") << r.body;
    r = Http(server_->address(), "POST", base + "/exit",
             R"({"outcome":"exited","exit_code":1,"ended_at":"2026-12-06T10:00:00.000Z"})", [&] {
               auto h = headers;
               h["Content-Type"] = "application/json";
               return h;
             }());
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(Http(server_->address(), "GET", base + "/control", "", headers).status, 401);
  }
  const boost::json::object run = server_->WaitTerminal(id, seconds(60));
  EXPECT_EQ(Str(run, "status"), "COMPLETED") << boost::json::serialize(run);
  const HttpResponse logs = server_->Get("/runs/" + id + "/logs");
  EXPECT_EQ(logs.body.find("forged"), std::string::npos) << logs.body;
}

}  // namespace
}  // namespace outpost::testing
