// The security audit's resource findings against a real `outpost serve` with the sandbox runner:
// F6 (limits by default, operator ceilings), F5 (disk use the agent cannot hide from the quota),
// F14 (change collection bounded in time and size).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
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
  EXPECT_TRUE(runs.at("data").as_array().empty()) << json::serialize(runs);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/runs") &&
               !std::filesystem::is_empty(dir_ + "/runs"));
}

}  // namespace
}  // namespace outpost::testing
