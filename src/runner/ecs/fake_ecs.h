// FakeEcs: an ECS API test double — a loopback HTTP server (testing/fake_http_server.h) speaking
// ECS's JSON 1.1 protocol (X-Amz-Target AmazonEC2ContainerServiceV20141113.<Op>) for RunTask,
// DescribeTasks, StopTask and ListTasks, with ECS's answer and error shapes (aws/ecs_client.h
// parses them). No ECS can run here; this is what the ecs runner's tests and `make bench` use.
//
// Task definitions are registered by the test (family -> image, command, memory). On RunTask:
// an unknown family -> 400 ClientException "TaskDefinition not found."; awsvpc without subnets
// -> 400 InvalidParameterException; a repeated clientToken -> the task it started. With a
// Docker Engine (OUTPOST_TEST_DOCKER_HOST), the task's container is created and started on it
// with `--network host` (the only way it reaches the control plane's port here) and the
// overrides' environment; its state is the task's lastStatus (created -> PENDING, running ->
// RUNNING, exited -> STOPPED with the exit code; OOMKilled -> container reason "OutOfMemoryError:
// Container killed due to memory usage"; a create or start the Engine refuses -> STOPPED,
// TaskFailedToStart, "CannotPullContainerError: <the Engine's message>"). StopTask stops the
// container (SIGTERM, then SIGKILL after stop_timeout) in the background and records
// UserInitiated and the reason. Without an Engine, tasks are simulated: RUNNING at once, STOPPED
// on StopTask or SetStopped.
//
// Faults for the Bad input tests: Throttle (the next N calls of an operation answer 400
// ThrottlingException "Rate exceeded"), Forget (the task is MISSING from DescribeTasks),
// SetStopped (a stop as ECS would report it: spot interruption, OOM, a stop by someone else).
// Every request must carry a SigV4 Authorization for service "ecs" (else 400
// MissingAuthenticationTokenException). Thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runner/docker/engine.h"
#include "testing/fake_http_server.h"

namespace outpost::ecs {

struct FakeTaskDefinition {
  std::string image;
  std::vector<std::string> entrypoint;  // empty = the image's
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "K=V" of the task definition
  std::optional<std::int64_t> memory_bytes;
  std::string user;  // "" = the image's
};

class FakeEcs {
 public:
  // engine: nullptr = simulated tasks. Listens on 127.0.0.1.
  explicit FakeEcs(const docker::DockerEngine* engine = nullptr);
  ~FakeEcs();

  std::string endpoint() const { return server_->endpoint(); }
  void Define(const std::string& family, FakeTaskDefinition def);
  void Throttle(const std::string& op, int times);
  void Forget(const std::string& arn);
  // Stops the task as ECS would report it (its container too, when there is one).
  void SetStopped(const std::string& arn, const std::string& stop_code,
                  const std::string& stopped_reason, std::optional<int> exit_code,
                  const std::string& container_reason = "");
  // Calls per operation so far.
  int Calls(const std::string& op) const;
  std::map<std::string, int> AllCalls() const;
  // The ARNs of every task started, in order; their RunTask bodies.
  std::vector<std::string> Tasks() const;
  boost::json::object RunTaskBody(const std::string& arn) const;
  std::string ContainerOf(const std::string& arn) const;
  int stop_timeout_seconds = 2;
  // Simulated tasks (no Engine): the lastStatus a new task starts in (PENDING: one that never
  // reaches RUNNING).
  std::string simulated_start_status = "RUNNING";

 private:
  struct Task {
    std::string arn, family, group, started_by, client_token, container_name, container_id;
    boost::json::object request;
    std::map<std::string, std::string> tags;
    std::string last_status = "PROVISIONING", desired_status = "RUNNING";
    std::string stop_code, stopped_reason, container_reason, start_error;
    std::optional<int> exit_code;
    bool forgotten = false;
    double created_at = 0, started_at = 0, stopped_at = 0;
  };
  testing::FakeResponse Handle(const testing::FakeRequest& r);
  testing::FakeResponse RunTask(const boost::json::object& body);
  testing::FakeResponse DescribeTasks(const boost::json::object& body);
  testing::FakeResponse StopTask(const boost::json::object& body);
  testing::FakeResponse ListTasks(const boost::json::object& body);
  void Observe(Task& t);  // with mu_ held: the container's state
  boost::json::object TaskJson(const Task& t, bool tags) const;
  Task* Find(const std::string& task_or_arn);

  const docker::DockerEngine* engine_;
  mutable std::mutex mu_;
  std::map<std::string, FakeTaskDefinition> defs_;
  std::vector<std::unique_ptr<Task>> tasks_;
  std::map<std::string, int> throttle_;
  std::map<std::string, int> calls_;
  std::vector<std::thread> stoppers_;
  int next_id_ = 0;
  std::unique_ptr<testing::FakeHttpServer> server_;  // last: destroyed first
};

}  // namespace outpost::ecs
