// Issue 18 item 10: a full disk never changes an outcome. Each test runs a real server on a
// small tmpfs data dir, fills it with a run, and checks what happens while it is full and after.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "testing/temp_dir.h"
#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using std::chrono::seconds;

std::string ShellBody(const std::string& task, int timeout = 120) {
  return json::serialize(
      json::object{{"agent", "shell"}, {"task", task}, {"timeoutSeconds", timeout}});
}

int CountLines(const std::string& path) {
  std::ifstream f(path);
  int n = 0;
  for (std::string line; std::getline(f, line);) ++n;
  return n;
}

// The shim of a run is gone (exited and reaped, or a zombie): it wrote its exit record or
// failed to.
bool ShimGone(const std::string& run_dir) {
  json::value v;
  try {
    v = json::parse(ReadAll(run_dir + "/shim.json"));
  } catch (...) {
    return false;
  }
  const int pid = static_cast<int>(v.at("pid").to_number<std::int64_t>());
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), {});
  const auto paren = text.rfind(')');
  return text.empty() || (paren != std::string::npos && text.substr(paren + 2, 1) == "Z");
}

class DiskFullTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_EQ(::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=40m,mode=0711"), 0)
        << "mount tmpfs on " << dir_ << ": " << std::strerror(errno);
    mounted_ = true;
  }
  void TearDown() override {
    server_.reset();
    KillRunsUnder(dir_);
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    ServerTest::TearDown();
  }

  // The server, its log (stderr) going to log_path().
  void StartServer() {
    int fd = ::open(log_path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    const int saved = ::dup(STDERR_FILENO);
    ::dup2(fd, STDERR_FILENO);
    try {
      server_ = ServerProcess::Start(dir_, {{"OUTPOST_RUNNER", "process"},
                                            {"OUTPOST_MIN_FREE_DISK_MB", "4"},
                                            {"OUTPOST_LOG_LEVEL", "info"}});
    } catch (...) {
      ::dup2(saved, STDERR_FILENO);
      throw;
    }
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    ::close(fd);
  }
  std::string log_path() const { return side_.Join("server.log"); }
  std::string RunDir(const std::string& id) const { return dir_ + "/runs/" + id; }
  json::object Health() const { return server_->Get("/health").Json().as_object(); }
  static std::string CheckStatus(const json::object& health, const char* check) {
    const json::value* c = health.at("checks").as_object().if_contains(check);
    return c == nullptr ? "absent" : Str(c->as_object(), "status");
  }

  bool mounted_ = false;
  TempDir side_;  // outside the tmpfs: the server's log and the runs' flags
};

// The scenario of the issue: run A is running when run B fills the data dir; A exits 0 while
// the disk is full (before: no exit.json, RUNNING until the disk freed, then FAILED
// supervisor_lost); B ends; dispatches work again (before: B's workspace stayed until the
// retention sweep, and every dispatch was refused); /health comes back (before: degraded for
// good once an audit write had failed); the log stays bounded while the disk is full.
TEST_F(DiskFullTest, Item10_AFullDiskNeverChangesAnOutcome) {
  StartServer();
  const json::object baseline = Health();
  const std::string full = side_.Join("full"), release = side_.Join("release");
  const std::string a = server_->Dispatch(
      ShellBody("while [ ! -e " + full + " ]; do sleep 0.05; done; echo innocent; exit 0"));
  ASSERT_FALSE(a.empty());
  ASSERT_TRUE(WaitFor([&] { return fs::exists(RunDir(a) + "/started.json"); }, seconds(30)));
  const std::string b =
      server_->Dispatch(ShellBody("dd if=/dev/zero of=big bs=64k 2>/dev/null; touch " + full +
                                  "; while [ ! -e " + release + " ]; do sleep 0.05; done; exit 0"));
  ASSERT_FALSE(b.empty());

  // Full: A exits 0 and its shim ends.
  ASSERT_TRUE(WaitFor([&] { return fs::exists(full); }, seconds(60)));
  ASSERT_TRUE(WaitFor([&] { return ShimGone(RunDir(a)); }, seconds(30)));
  EXPECT_TRUE(fs::exists(RunDir(a) + "/exit.json")) << "A's exit record was not written";
  // The disk guard (cached for 2 s) notices, and new runs are refused rather than failed.
  EXPECT_TRUE(WaitFor([&] { return CheckStatus(Health(), "disk") == "warn"; }, seconds(10)));
  HttpResponse refused = server_->Post("/dispatch", ShellBody("true"));
  EXPECT_EQ(refused.status, 503) << refused.body;
  // Ten seconds with the disk full: the log grows by a bounded number of lines (the
  // supervisor retries A's end every tick; before, every failure was a line).
  const int before = CountLines(log_path());
  std::this_thread::sleep_for(seconds(10));
  const int during = CountLines(log_path()) - before;
  EXPECT_LE(during, 40) << ReadAll(log_path()).substr(0, 4000);

  // B ends: its workspace goes, and the space with it.
  { std::ofstream(release).put('\n'); }
  json::object run_a = server_->WaitTerminal(a, seconds(60));
  EXPECT_EQ(Str(run_a, "status"), "COMPLETED") << json::serialize(run_a);
  ASSERT_TRUE(run_a.contains("exitCode"));
  EXPECT_EQ(run_a.at("exitCode"), json::value(0)) << json::serialize(run_a);
  json::object run_b = server_->WaitTerminal(b, seconds(60));
  EXPECT_FALSE(fs::exists(RunDir(b) + "/workspace")) << json::serialize(run_b);

  ASSERT_TRUE(WaitFor([&] { return CheckStatus(Health(), "disk") == "pass"; }, seconds(10)))
      << json::serialize(Health());
  HttpResponse accepted = server_->Post("/dispatch", ShellBody("echo after"));
  ASSERT_EQ(accepted.status, 201) << "dispatch still refused after the disk recovered: "
                                  << accepted.body;
  const std::string c = Str(accepted.Json().at("data").as_object(), "runId");
  EXPECT_EQ(Str(server_->WaitTerminal(c, seconds(60)), "status"), "COMPLETED");
  // /health: as before the disk filled (the process runner alone keeps it degraded).
  EXPECT_TRUE(WaitFor(
      [&] {
        json::object h = Health();
        return Str(h, "status") == Str(baseline, "status") && CheckStatus(h, "disk") == "pass" &&
               CheckStatus(h, "audit") != "warn";
      },
      seconds(10)))
      << json::serialize(Health());
  EXPECT_LE(CountLines(log_path()), 200) << ReadAll(log_path()).substr(0, 4000);
}

}  // namespace
}  // namespace outpost::testing
