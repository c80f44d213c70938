// The security audit's resource findings against a real `outpost serve` with the sandbox runner:
// F6 (limits by default, operator ceilings), F5 (disk use the agent cannot hide from the quota),
// F14 (change collection bounded in time and size).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {
namespace json = boost::json;
using std::chrono::seconds;

// The value of a run's cgroup file, v1 (controller/outpost/<id>/file) or v2; "" when absent.
std::string CgroupValue(const std::string& run_id, const std::string& v1_controller,
                        const std::string& v1_file, const std::string& v2_file) {
  std::string v1 = "/sys/fs/cgroup/" + v1_controller + "/outpost/" + run_id + "/" + v1_file;
  std::string v2 = "/sys/fs/cgroup/outpost/" + run_id + "/" + v2_file;
  std::string s = ReadAll(std::filesystem::exists(v1) ? v1 : v2);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

class LimitsTest : public ServerTest {
 protected:
  void StartServer(std::map<std::string, std::string> env = {}) {
    env.emplace("OUTPOST_CANCEL_GRACE_SECONDS", "1");
    server_ = ServerProcess::Start(dir_, env);
  }
  json::object RunTask(const std::string& task, json::object extra = {}, int timeout = 60) {
    json::object body{{"agent", "shell"}, {"task", task}, {"timeoutSeconds", timeout}};
    for (auto& kv : extra) body[kv.key()] = kv.value();
    id_ = server_->Dispatch(json::serialize(body));
    EXPECT_FALSE(id_.empty());
    return server_->WaitTerminal(id_, seconds(timeout + 30));
  }
  std::string RunFile(const std::string& name) { return dir_ + "/runs/" + id_ + "/" + name; }

  std::string id_;
};

// Audit F6: a dispatch without resourceConstraints ran with memory.max and cpu.max at "max".
TEST_F(LimitsTest, F6_ARunWithoutResourceConstraintsGetsTheDefaultLimits) {
  StartServer();
  id_ = server_->Dispatch(
      R"({"agent":"shell","task":"while [ ! -e /work/go ]; do sleep 0.1; done","timeoutSeconds":60})");
  ASSERT_FALSE(id_.empty());
  ASSERT_TRUE(WaitFor([&] { return !CgroupValue(id_, "pids", "pids.max", "pids.max").empty(); },
                      seconds(30)));
  EXPECT_EQ(CgroupValue(id_, "memory", "memory.limit_in_bytes", "memory.max"),
            std::to_string(std::int64_t{4096} << 20));
  // 2048 units = 2 CPUs: 200 ms of CPU time per 100 ms period.
  std::string cpu = CgroupValue(id_, "cpu", "cpu.cfs_quota_us", "cpu.max");
  EXPECT_TRUE(cpu == "200000" || cpu == "200000 100000") << cpu;
  EXPECT_EQ(CgroupValue(id_, "pids", "pids.max", "pids.max"), "1024");
  json::object run = server_->Run(id_);
  ASSERT_TRUE(run.contains("resourceConstraints")) << json::serialize(run);
  EXPECT_EQ(run.at("resourceConstraints").at("maxMemoryMb").as_int64(), 4096);
  EXPECT_EQ(run.at("resourceConstraints").at("maxCpuUnits").as_int64(), 2048);
  EXPECT_EQ(run.at("resourceConstraints").at("maxDiskGb").as_int64(), 10);
  std::ofstream(RunFile("workspace/go")) << "go\n";
  EXPECT_EQ(Str(server_->WaitTerminal(id_, seconds(60)), "status"), "COMPLETED");
}

// Audit F6: any tenant could ask for 262144 MB, 65536 CPU units and 2048 GB.
TEST_F(LimitsTest, F6_ADispatchAboveTheOperatorsCeilingIs400AndStoresNothing) {
  StartServer({{"OUTPOST_CEILING_MEMORY_MB", "8192"}});
  HttpResponse r = server_->Post(
      "/dispatch",
      R"({"agent":"shell","task":"true","resourceConstraints":{"maxMemoryMb":8193,"maxDiskGb":2048}})");
  EXPECT_EQ(r.status, 400) << r.body;
  json::value v = r.Json();
  ASSERT_TRUE(v.is_object()) << r.body;
  const json::array& errors = v.at("error").at("details").at("errors").as_array();
  ASSERT_EQ(errors.size(), 2u) << r.body;
  EXPECT_EQ(errors[0].at("path").as_string(), "resourceConstraints.maxMemoryMb");
  EXPECT_EQ(errors[0].at("message").as_string(),
            "resourceConstraints.maxMemoryMb 8193 is above this server's ceiling of 8192 "
            "([limits] ceiling_memory_mb)");
  EXPECT_EQ(errors[1].at("path").as_string(), "resourceConstraints.maxDiskGb");
  json::value runs = server_->Get("/runs").Json();
  EXPECT_TRUE(runs.at("data").at("items").as_array().empty()) << json::serialize(runs);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/runs") &&
               !std::filesystem::is_empty(dir_ + "/runs"));
}

// Mount points under `prefix` (from /proc/self/mountinfo).
int MountsUnder(const std::string& prefix) {
  std::istringstream info(ReadAll("/proc/self/mountinfo"));
  int n = 0;
  for (std::string line; std::getline(info, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    n += point.starts_with(prefix);
  }
  return n;
}

// A shim that dies leaves its image mounted; the run's end as supervisor_lost releases it.
TEST_F(LimitsTest, F5_TheImageOfARunWhoseShimDiedIsReleased) {
  StartServer();
  id_ = server_->Dispatch(
      R"({"agent":"shell","task":"while [ ! -e /work/go ]; do sleep 0.1; done","timeoutSeconds":60})");
  ASSERT_FALSE(id_.empty());
  const std::string run_dir = dir_ + "/runs/" + id_ + "/";
  ASSERT_TRUE(WaitFor([&] { return MountsUnder(run_dir) == 3; }, seconds(30)))
      << MountsUnder(run_dir);  // the image and the binds of workspace and home
  json::value shim = json::parse(ReadAll(RunFile("shim.json")));
  ASSERT_EQ(::kill(static_cast<pid_t>(shim.at("pid").to_number<int>()), SIGKILL), 0);
  json::object run = server_->WaitTerminal(id_, seconds(90));
  EXPECT_EQ(Str(run, "reason"), "supervisor_lost") << json::serialize(run);
  EXPECT_EQ(MountsUnder(run_dir), 0);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/images/busy/" + id_ + ".img"));
}

// Audit F5: the disk watchdog walked the tree, so space held by a file deleted while still open
// was invisible: with maxDiskGb 1 the run wrote 1.1 GB to the host's disk and COMPLETED. Now the
// write fails with ENOSPC (runner_test's ImagePoolTest shows the errno; whether the agent gets
// to print it before the full file system stops the run is a race) and the run is disk_quota.
TEST_F(LimitsTest, F5_AFileDeletedWhileOpenCannotExceedTheDiskLimit) {
  StartServer();
  json::object run = RunTask(
      "exec 3>/work/f; rm /work/f; if head -c 1100M /dev/zero >&3; then echo wrote-all; fi; "
      "sleep 30",
      {{"resourceConstraints", {{"maxDiskGb", 1}}}});
  EXPECT_EQ(Str(run, "status"), "FAILED") << json::serialize(run);
  EXPECT_EQ(Str(run, "reason"), "disk_quota") << json::serialize(run);
  EXPECT_EQ(ReadAll(RunFile("stdout.log")).find("wrote-all"), std::string::npos);
  EXPECT_EQ(ProcessesOf(id_), 0);
}

// Audit F5: the walk stopped at depth 1000, so a file below it was not counted.
TEST_F(LimitsTest, F5_AFileBelowAVeryDeepTreeCannotExceedTheDiskLimit) {
  StartServer();
  json::object run = RunTask(
      "d=/work; i=0; while [ $i -lt 1001 ]; do d=$d/a; i=$((i+1)); done; mkdir -p $d; "
      "if head -c 1100M /dev/zero > $d/big; then echo wrote-all; fi; sleep 30",
      {{"resourceConstraints", {{"maxDiskGb", 1}}}});
  EXPECT_EQ(Str(run, "status"), "FAILED") << json::serialize(run);
  EXPECT_EQ(Str(run, "reason"), "disk_quota") << json::serialize(run);
  EXPECT_EQ(ReadAll(RunFile("stdout.log")).find("wrote-all"), std::string::npos);
}

// Audit F5: where loop devices do not work (here: turned off), /health says the disk limit is
// the weaker watchdog; with them it says each run has its own file system.
TEST_F(LimitsTest, F5_HealthSaysWhetherRunsHaveTheirOwnFileSystem) {
  StartServer();
  json::value h = server_->Get("/health").Json();
  ASSERT_TRUE(h.is_object()) << json::serialize(h);
  const json::value* check = h.at("checks").as_object().if_contains("workspace_images");
  ASSERT_NE(check, nullptr) << json::serialize(h);
  EXPECT_EQ(check->at("status").as_string(), "pass") << json::serialize(*check);
  server_.reset();
  StartServer({{"OUTPOST_WORKSPACE_IMAGES", "0"}});
  h = server_->Get("/health").Json();
  check = h.at("checks").as_object().if_contains("workspace_images");
  ASSERT_NE(check, nullptr) << json::serialize(h);
  EXPECT_EQ(check->at("status").as_string(), "warn");
  EXPECT_NE(std::string(check->at("message").as_string()).find("watchdog"), std::string::npos);
  // The watchdog still stops a plain file over the limit.
  json::object run = RunTask("head -c 1100M /dev/zero > /work/big; sleep 30",
                             {{"resourceConstraints", {{"maxDiskGb", 1}}}});
  EXPECT_EQ(Str(run, "reason"), "disk_quota") << json::serialize(run);
  std::filesystem::remove(RunFile("workspace/big"));
}

// Audit F14: the post-run collection ran as root in the server's cgroup with no bound: a
// workspace made to be huge could hang the shim or get it (or the server) OOM-killed. Now its
// git runs in the run's cgroup within a time and size budget, and meeting one is said in the
// run's changes, the run's own outcome unchanged.
class CollectBudgetTest : public LimitsTest {
 protected:
  void SetUp() override {
    LimitsTest::SetUp();
    origin_ = MakeTempDir() + "/origin";
    Sh("git init -q -b trunk " + origin_ + " && cd " + origin_ +
       " && echo hello > README.md && git add README.md && "
       "git -c user.name=t -c user.email=t@e commit -q -m init");
  }
  void TearDown() override {
    LimitsTest::TearDown();
    std::filesystem::remove_all(std::filesystem::path(origin_).parent_path());
  }
  void StartWith(std::map<std::string, std::string> env) {
    env.emplace("OUTPOST_ALLOW_LOCAL_REPOS", "1");
    env.emplace("OUTPOST_LOCAL_REPO_ROOTS", std::filesystem::path(origin_).parent_path().string());
    StartServer(env);
  }
  json::object RunInRepo(const std::string& task) { return RunTask(task, {{"repo", origin_}}); }
  json::object ChangesFile() {
    json::value v = json::parse(ReadAll(RunFile("changes.json")));
    return v.as_object();
  }
  std::string origin_;
};

TEST_F(CollectBudgetTest, F14_AFileOverTheCollectionsSizeBudgetIsATypedFailure) {
  StartWith({{"OUTPOST_COLLECT_MAX_BYTES", std::to_string(4 << 20)}});
  json::object run = RunInRepo("head -c 8M /dev/urandom > big.bin && echo more >> README.md");
  EXPECT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);  // the agent did succeed
  ASSERT_TRUE(run.contains("changes") && run.at("changes").is_object()) << json::serialize(run);
  EXPECT_EQ(Str(run.at("changes").as_object(), "kind"), "uncollected") << json::serialize(run);
  json::object changes = ChangesFile();
  EXPECT_EQ(Str(changes, "failure"), "too_large") << json::serialize(changes);
  EXPECT_NE(Str(changes, "failure_message").find("collect_max_bytes"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(RunFile("diff.patch")));
  EXPECT_FALSE(std::filesystem::exists(RunFile("changes.bundle")));
  EXPECT_EQ(ProcessesOf(id_), 0);
}

TEST_F(CollectBudgetTest, F14_ACollectionOverItsTimeBudgetIsATypedFailure) {
  StartWith({{"OUTPOST_COLLECT_TIMEOUT_SECONDS", "1"}});
  // 8 GiB of zeros that take no disk (a sparse file): git must read and hash all of it, which
  // takes far longer than the 1 s budget.
  const auto t0 = std::chrono::steady_clock::now();
  json::object run = RunInRepo("truncate -s 8G zeros.bin");
  EXPECT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
  ASSERT_TRUE(run.contains("changes") && run.at("changes").is_object()) << json::serialize(run);
  EXPECT_EQ(Str(run.at("changes").as_object(), "kind"), "uncollected") << json::serialize(run);
  json::object changes = ChangesFile();
  EXPECT_EQ(Str(changes, "failure"), "timeout") << json::serialize(changes);
  EXPECT_NE(Str(changes, "failure_message").find("collect_timeout_seconds"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(60));
  EXPECT_EQ(ProcessesOf(id_), 0);
}

}  // namespace
}  // namespace outpost::testing
