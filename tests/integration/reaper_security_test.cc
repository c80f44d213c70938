// Audit F3 and F12 against a real `outpost serve` with the sandbox runner (root, bubblewrap,
// cgroups).
//
// F3: a sandboxed agent forged OUTPOST_RUN_ID=<its id>/workspace/x on a process and wrote
// <workspace>/x/spec.json; the root reaper took "<id>/workspace/x" for an unknown run, read that
// spec and killed the cgroup it named (any cgroup of the host), hung on a FIFO put there, or
// read /dev/zero without end. Each variant here leaves a victim process in a victim cgroup and
// the supervisor untouched while the reaper sweeps (counted by /health/fleet reaper.sweeps).
//
// F12: two servers on one machine (their own data dirs) never give two live runs one uid.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>

#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {
namespace json = boost::json;
using std::chrono::seconds;

// A process in a cgroup of its own, outside Outpost: what the forged spec.json names.
class Victim {
 public:
  explicit Victim(const std::string& name) : name_(name) {
    const std::string root = "/sys/fs/cgroup";
    if (std::filesystem::exists(root + "/cgroup.controllers")) {
      dirs_.push_back(root + "/" + name);
    } else {
      for (const char* ctrl : {"memory", "pids", "freezer", "cpu"}) {
        if (std::filesystem::is_directory(root + "/" + ctrl)) {
          dirs_.push_back(root + "/" + ctrl + "/" + name);
        }
      }
    }
    for (const std::string& d : dirs_) std::filesystem::create_directory(d);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl("/bin/sleep", "sleep", "600", nullptr);
      ::_exit(127);
    }
    for (const std::string& d : dirs_) {
      std::ofstream(d + "/cgroup.procs") << pid_ << "\n";
    }
  }
  ~Victim() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    for (const std::string& d : dirs_) ::rmdir(d.c_str());
  }
  const std::string& name() const { return name_; }
  bool InItsCgroup() const {
    for (const std::string& d : dirs_) {
      if (ReadAll(d + "/cgroup.procs").find(std::to_string(pid_) + "\n") == std::string::npos) {
        return false;
      }
    }
    return !dirs_.empty();
  }
  // Alive (not even a zombie): it is our child, so waitpid tells.
  bool Alive() {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) pid_ = -1;
    return pid_ > 0;
  }

 private:
  std::string name_;
  std::vector<std::string> dirs_;
  pid_t pid_ = -1;
};

// Processes whose environment holds exactly `entry`.
int WithEnvEntry(const std::string& entry) {
  int n = 0;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return 0;
  while (dirent* e = ::readdir(proc)) {
    if (std::atoi(e->d_name) <= 0) continue;
    std::string env = ReadAll(std::string("/proc/") + e->d_name + "/environ");
    if (env.find(entry + '\0') != std::string::npos || env.ends_with(entry)) ++n;
  }
  ::closedir(proc);
  return n;
}

class ReaperSecurityTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    server_ = ServerProcess::Start(dir_, {{"OUTPOST_CANCEL_GRACE_SECONDS", "1"}});
  }
  std::int64_t Sweeps() {
    return server_->Get("/health/fleet").Json().at("reaper").at("sweeps").as_int64();
  }
  // The audit's exploit: `plant` puts something at /work/x/spec.json, then a process carrying
  // OUTPOST_RUN_ID=<run id>/workspace/x is started and the run waits. Returns the run id once
  // the forged process runs and three sweeps (two make a reap) have seen it.
  std::string Exploit(const std::string& plant) {
    const std::string task = "mkdir -p /work/x && " + plant +
                             " && env -i OUTPOST_RUN_ID=\"$OUTPOST_RUN_ID/workspace/x\" "
                             "/bin/sleep 600 & echo forged; exec sleep 600";
    json::object body{{"agent", "shell"}, {"task", task}, {"timeoutSeconds", 300}};
    const std::string id = server_->Dispatch(json::serialize(body));
    EXPECT_FALSE(id.empty());
    EXPECT_TRUE(WaitFor([&] { return WithEnvEntry("OUTPOST_RUN_ID=" + id + "/workspace/x") == 1; },
                        seconds(60)))
        << ReadAll(dir_ + "/runs/" + id + "/stderr.log");
    const std::int64_t before = Sweeps();
    EXPECT_TRUE(WaitFor([&] { return Sweeps() >= before + 3; }, seconds(30)))
        << "the supervisor stopped sweeping";
    return id;
  }
  // The supervisor still admits and finishes runs, and the exploit's run is still RUNNING.
  void ExpectSupervisorUntouched(const std::string& id) {
    EXPECT_EQ(Str(server_->Run(id), "status"), "RUNNING");
    json::object body{{"agent", "shell"}, {"task", "echo hi"}, {"timeoutSeconds", 30}};
    const std::string next = server_->Dispatch(json::serialize(body));
    ASSERT_FALSE(next.empty());
    json::object run = server_->WaitTerminal(next, seconds(30));
    EXPECT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
    EXPECT_EQ(server_->Get("/health").status, 200);
    server_->Post("/runs/" + id + "/cancel", "{}");
    EXPECT_EQ(Str(server_->WaitTerminal(id, seconds(60)), "status"), "CANCELLED");
  }
};

TEST_F(ReaperSecurityTest, F3_AForgedRunIdNamingAForeignCgroupKillsNothing) {
  Victim victim("outpost-f3-victim-" + std::to_string(::getpid()));
  ASSERT_TRUE(victim.InItsCgroup());
  const std::string spec =
      R"({"run_id":"x","argv":[],"sandbox":{"cgroup_name":")" + victim.name() + R"("}})";
  const std::string id = Exploit("printf '%s' '" + spec + "' > /work/x/spec.json");
  EXPECT_TRUE(victim.Alive()) << "the reaper killed a process of a foreign cgroup";
  EXPECT_TRUE(victim.InItsCgroup());
  ExpectSupervisorUntouched(id);
}

TEST_F(ReaperSecurityTest, F3_AFifoWhereARunFileIsReadDoesNotHangTheSupervisor) {
  Victim victim("outpost-f3-fifo-" + std::to_string(::getpid()));
  const std::string id = Exploit("mkfifo /work/x/spec.json");
  EXPECT_TRUE(victim.Alive());
  ExpectSupervisorUntouched(id);
}

TEST_F(ReaperSecurityTest, F3_ALinkToDevZeroIsNotRead) {
  const std::string id = Exploit("ln -s /dev/zero /work/x/spec.json");
  ExpectSupervisorUntouched(id);
}

// F12: two servers, their own data dirs, the machine's lock dir (here a test's own, with a
// range of two uids): concurrent runs on both get different uids.
TEST(ReaperSecurity, F12_TwoServersNeverGiveTwoLiveRunsTheSameUid) {
  const std::string base = MakeTempDir();
  const int uid_min = 310000 + (::getpid() % 1000) * 2;
  const std::string config = base + "/outpost.toml";
  std::ofstream(config) << "[sandbox]\nuid_min = " << uid_min << "\nuid_max = " << uid_min + 1
                        << "\nuid_lock_dir = \"" << base << "/uids\"\n";
  std::vector<std::string> dirs{base + "/a", base + "/b"};
  std::vector<std::unique_ptr<ServerProcess>> servers;
  for (const std::string& d : dirs) {
    std::filesystem::create_directory(d);
    ::chmod(d.c_str(), 0711);
    servers.push_back(ServerProcess::Start(d, {}, {"--config", config}));
  }
  // Each run prints its uid, then waits for the test's go file in its workspace.
  const std::string task = "id -u; while [ ! -e /work/go ]; do sleep 0.1; done";
  json::object body{{"agent", "shell"}, {"task", task}, {"timeoutSeconds", 120}};
  std::vector<std::string> ids;
  for (auto& s : servers) ids.push_back(s->Dispatch(json::serialize(body)));
  std::set<std::string> uids;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::string out = dirs[i] + "/runs/" + ids[i] + "/stdout.log";
    ASSERT_TRUE(WaitFor([&] { return ReadAll(out).find('\n') != std::string::npos; }, seconds(60)))
        << ids[i];
    uids.insert(ReadAll(out));
  }
  EXPECT_EQ(uids.size(), 2u) << "two live runs share a uid: " << *uids.begin();
  EXPECT_EQ(uids, std::set<std::string>(
                      {std::to_string(uid_min) + "\n", std::to_string(uid_min + 1) + "\n"}));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    std::ofstream(dirs[i] + "/runs/" + ids[i] + "/workspace/go") << "";
    EXPECT_EQ(Str(servers[i]->WaitTerminal(ids[i], seconds(60)), "status"), "COMPLETED");
  }
  servers.clear();
  for (const std::string& d : dirs) KillRunsUnder(d);
  std::error_code ec;
  std::filesystem::remove_all(base, ec);
}

}  // namespace
}  // namespace outpost::testing
