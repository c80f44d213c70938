// `outpost artifacts`, parsed by a real CLI::App, against a scripted HTTP server that answers
// both the API call and the artifact URLs it hands out.
#include "cli/artifacts_command.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cli/artifact_download.h"
#include "common/crypto.h"
#include "common/files.h"
#include "testing/fake_http_server.h"
#include "testing/temp_dir.h"

namespace outpost::cli {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::Envelope;
using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;

struct Outcome {
  int exit_code = -1;
  std::string out, err;
};

Outcome RunCli(std::vector<std::string> args) {
  ::setenv("XDG_CONFIG_HOME", "/nonexistent/outpost-cli-test", 1);
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  ::unsetenv("OUTPOST_CONTEXT");
  CLI::App app{"outpost"};
  Outcome o;
  std::ostringstream out, err;
  ClientIo io;
  io.out = &out;
  io.err = &err;
  AddClientCommands(app, &o.exit_code, io);
  args.insert(args.begin(), "outpost");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    o.exit_code = ExitForParseError(app, e, &err);
  }
  o.out = out.str();
  o.err = err.str();
  return o;
}

struct Artifact {
  std::string name;
  std::string recorded;  // the bytes the listed size and sha256 describe
  std::string served;    // what the URL answers (normally the same)
};

// GET /runs/R1/artifacts lists `artifacts` with URLs back to this server (built from the Host
// header); GET /files/R1/<name>?… serves each one's bytes; anything else is 404 NOT_FOUND.
class ArtifactServer {
 public:
  explicit ArtifactServer(std::vector<Artifact> artifacts, std::string state = "stored",
                          std::string missing = "[]")
      : artifacts_(std::move(artifacts)),
        state_(std::move(state)),
        missing_(std::move(missing)),
        server_([this](const FakeRequest& r) { return Answer(r); }) {}

  std::string endpoint() const { return server_.endpoint(); }
  std::vector<FakeRequest> requests() const { return server_.requests(); }

  // The data object the API answers, for a server reached as `host`.
  json::object Data(const std::string& host) const {
    json::array list;
    for (const auto& a : artifacts_) {
      list.push_back(json::object{
          {"name", a.name},
          {"type", a.name == "summary.json" ? "metadata" : "output"},
          {"url", "http://" + host + "/files/R1/" + a.name + "?expires=99&signature=abc"},
          {"expiresAt", "2026-11-28T09:22:40.000Z"},
          {"sizeBytes", a.recorded.size()},
          {"contentType", "text/plain"},
          {"sha256", Sha256Hex(a.recorded)}});
    }
    return {{"runId", "R1"},
            {"status", "COMPLETED"},
            {"artifactsStatus", state_},
            {"missing", json::parse(missing_)},
            {"artifacts", std::move(list)}};
  }

 private:
  FakeResponse Answer(const FakeRequest& r) const {
    const std::string path = r.target.substr(0, r.target.find('?'));
    if (path == "/runs/R1/artifacts") {
      if (r.target.find("expiresIn=59") != std::string::npos) {
        return {400,
                R"({"success":false,"error":{"code":"VALIDATION_ERROR","message":"Request )"
                R"(validation failed","details":{"errors":[{"path":"expiresIn","message":)"
                R"("must be an integer number of seconds from 60 to 86400"}]}}})",
                {}};
      }
      return {200, Envelope(json::serialize(Data(r.headers.at("host")))), {}};
    }
    for (const auto& a : artifacts_) {
      if (path == "/files/R1/" + a.name) {
        return {200, a.served, {{"Content-Type", "text/plain"}}};
      }
    }
    return {404, R"({"success":false,"error":{"code":"NOT_FOUND","message":"Run not found"}})", {}};
  }

  std::vector<Artifact> artifacts_;
  std::string state_, missing_;
  FakeHttpServer server_;
};

class ArtifactsCommand : public ::testing::Test {
 protected:
  std::string Read(const std::string& path) {
    auto content = ReadFile(path);
    return content.ok() ? *content : "<absent>";
  }
  std::set<std::string> Listing(const std::string& dir) {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
    return names;
  }

  outpost::testing::TempDir dir_{"outpost-artifacts", fs::temp_directory_path().string()};
  std::string root_ = dir_.path();
};

const std::vector<Artifact> kTwo = {
    {"output.log", "hello\n", "hello\n"},
    {"summary.json", R"({"status":"COMPLETED"})", R"({"status":"COMPLETED"})"}};

TEST_F(ArtifactsCommand, ListsATableThenTheUrls) {
  ArtifactServer server(kTwo);
  auto o = RunCli({"artifacts", "R1", "--endpoint", server.endpoint()});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const std::string host = server.endpoint().substr(7);
  const std::string sha = Sha256Hex("hello\n").substr(0, 12);
  EXPECT_EQ(o.out,
            "NAME          TYPE      SIZE  SHA256        EXPIRES\n"
            "output.log    output    6     " +
                sha +
                "  2026-11-28 09:22:40 UTC\n"
                "summary.json  metadata  22    " +
                Sha256Hex(R"({"status":"COMPLETED"})").substr(0, 12) +
                "  2026-11-28 09:22:40 UTC\n"
                "\n"
                "output.log: http://" +
                host +
                "/files/R1/output.log?expires=99&signature=abc\n"
                "summary.json: http://" +
                host + "/files/R1/summary.json?expires=99&signature=abc\n");
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(server.requests().at(0).target, "/runs/R1/artifacts");  // server default expiry
}

TEST_F(ArtifactsCommand, ListSaysWhatIsNotStored) {
  ArtifactServer partial(kTwo, "partial", R"(["events.jsonl","diff.patch"])");
  auto o = RunCli({"artifacts", "R1", "--endpoint", partial.endpoint()});
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_NE(o.out.find("\nartifacts status: partial\nmissing: events.jsonl\nmissing: diff.patch\n"),
            std::string::npos)
      << o.out;

  ArtifactServer running({}, "running");
  o = RunCli({"artifacts", "R1", "--endpoint", running.endpoint()});
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(o.out,
            "no artifacts\n"
            "artifacts status: running (not stored yet; retry when the run has finished)\n");
}

TEST_F(ArtifactsCommand, JsonPrintsTheDataObjectAndPassesExpiresIn) {
  ArtifactServer server(kTwo);
  auto o =
      RunCli({"artifacts", "R1", "--json", "--expires-in", "120", "--endpoint", server.endpoint()});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(json::parse(o.out), json::value(server.Data(server.endpoint().substr(7))));
  EXPECT_EQ(server.requests().at(0).target, "/runs/R1/artifacts?expiresIn=120");
}

TEST_F(ArtifactsCommand, DownloadWritesEveryArtifactVerified) {
  ArtifactServer server(kTwo);
  const std::string dir = root_ + "/new/sub";  // created, parents too
  auto o = RunCli({"artifacts", "R1", "--download", dir, "--endpoint", server.endpoint()});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out,
            "output.log    6   ok\n"
            "summary.json  22  ok\n");
  EXPECT_EQ(Read(dir + "/output.log"), "hello\n");
  EXPECT_EQ(Read(dir + "/summary.json"), R"({"status":"COMPLETED"})");
  EXPECT_EQ(Listing(dir), (std::set<std::string>{"output.log", "summary.json"}));  // no temps
  // The signed URLs are fetched as given and carry no API key.
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].target, "/files/R1/output.log?expires=99&signature=abc");
  EXPECT_EQ(requests[1].headers.count("authorization"), 0u);
}

TEST_F(ArtifactsCommand, DownloadJsonReportsEachFile) {
  ArtifactServer server(kTwo);
  auto o =
      RunCli({"artifacts", "R1", "--download", root_, "--json", "--endpoint", server.endpoint()});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(json::parse(o.out), json::parse(R"({"runId":"R1","dir":")" + root_ + R"(","files":[
                {"name":"output.log","sizeBytes":6,"result":"ok"},
                {"name":"summary.json","sizeBytes":22,"result":"ok"}]})"));
}

TEST_F(ArtifactsCommand, Sha256MismatchExits1AndLeavesNoFileUnderItsName) {
  ArtifactServer server({{"output.log", "hello\n", "HELLO\n"}, kTwo[1]});
  std::ofstream(root_ + "/output.log") << "stale from an earlier download";
  auto o = RunCli({"artifacts", "R1", "--download", root_, "--endpoint", server.endpoint()});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.out,
            "output.log    6   SHA256 MISMATCH\n"
            "summary.json  22  ok\n");
  EXPECT_NE(o.err.find("output.log: SHA256 MISMATCH"), std::string::npos) << o.err;
  EXPECT_EQ(Listing(root_), (std::set<std::string>{"summary.json"}));
}

TEST_F(ArtifactsCommand, SizeMismatchAndAFailedFetchExit1) {
  ArtifactServer server({{"output.log", "hello\n", "hello\nand more\n"}});
  auto o = RunCli({"artifacts", "R1", "--download", root_, "--endpoint", server.endpoint()});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.out, "output.log  15  SIZE MISMATCH\n");
  EXPECT_NE(o.err.find("got 15 bytes, expected 6"), std::string::npos) << o.err;
  EXPECT_TRUE(Listing(root_).empty());

  // The listed URL answers 404 (expired or re-targeted URLs answer 403 the same way).
  DownloadOutcome gone = DownloadArtifact(
      {"x.log", server.endpoint() + "/files/R1/x.log?expires=1", Sha256Hex(""), 0}, root_, {});
  EXPECT_EQ(gone.verdict, DownloadVerdict::kFetchFailed);
  EXPECT_EQ(gone.detail, "HTTP 404");
  EXPECT_FALSE(fs::exists(root_ + "/x.log"));
}

TEST_F(ArtifactsCommand, HostileNamesAreRefusedAndNothingIsWrittenOutsideTheDirectory) {
  ArtifactServer server(
      {{"../x", "evil", "evil"}, {".bashrc", "evil", "evil"}, {"a/b", "evil", "evil"}, kTwo[0]});
  const std::string dir = root_ + "/dl";
  auto o = RunCli({"artifacts", "R1", "--download", dir, "--endpoint", server.endpoint()});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.out.find("../x        -  REFUSED\n"), std::string::npos) << o.out;
  EXPECT_NE(o.err.find("../x: REFUSED"), std::string::npos) << o.err;
  EXPECT_EQ(Listing(root_), (std::set<std::string>{"dl"}));
  EXPECT_EQ(Listing(dir), (std::set<std::string>{"output.log"}));  // the honest one still comes
  for (const auto& r : server.requests()) EXPECT_EQ(r.target.find("evil"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 2u);  // the list and output.log: refused names never fetched
}

TEST_F(ArtifactsCommand, NotStoredYetExits1AndSaysToRetry) {
  ArtifactServer server({}, "pending");
  auto o =
      RunCli({"artifacts", "R1", "--download", root_ + "/dl", "--endpoint", server.endpoint()});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.err,
            "outpost: artifacts not stored yet (status pending); retry when the run has "
            "finished\n");
  EXPECT_FALSE(fs::exists(root_ + "/dl"));
}

TEST_F(ArtifactsCommand, UnknownRunExits4) {
  ArtifactServer server(kTwo);
  auto o = RunCli({"artifacts", "NOPE", "--endpoint", server.endpoint()});
  EXPECT_EQ(o.exit_code, 4);
  EXPECT_NE(o.err.find("NOT_FOUND (HTTP 404)"), std::string::npos) << o.err;
}

TEST_F(ArtifactsCommand, ExpiresInOutOfRangeIsTheServersValidationErrorExit4) {
  ArtifactServer server(kTwo);
  auto o = RunCli({"artifacts", "R1", "--expires-in", "59", "--endpoint", server.endpoint()});
  EXPECT_EQ(o.exit_code, 4);
  EXPECT_NE(o.err.find("expiresIn: must be an integer"), std::string::npos) << o.err;
}

TEST_F(ArtifactsCommand, UsageAndUnreachable) {
  EXPECT_EQ(RunCli({"artifacts"}).exit_code, 64);
  EXPECT_EQ(RunCli({"artifacts", "R1", "--expires-in", "soon"}).exit_code, 64);
  auto o = RunCli({"artifacts", "R1", "--endpoint",
                   "http://127.0.0.1:" + std::to_string(testing::UnusedPort())});
  EXPECT_EQ(o.exit_code, 5);
  EXPECT_NE(o.err.find("cannot reach"), std::string::npos) << o.err;
}

TEST(ArtifactName, OnlyPlainVisibleSingleComponentsAreSafe) {
  for (const char* ok : {"output.log", "diff.patch", "changes.bundle", "a-b_c.1"}) {
    EXPECT_TRUE(IsSafeArtifactName(ok)) << ok;
  }
  for (const char* bad : {"", ".", "..", "../x", "a/b", "/etc/passwd", ".hidden", "a..b", "a\\b"}) {
    EXPECT_FALSE(IsSafeArtifactName(bad)) << bad;
  }
  EXPECT_FALSE(IsSafeArtifactName(std::string_view("a\0b", 3)));
}

}  // namespace
}  // namespace outpost::cli
